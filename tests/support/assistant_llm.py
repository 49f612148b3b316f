"""Tests of 智能管家: the fake OpenAI-compatible server and the model engine (fixtures, route-argument makers for the property test)."""
