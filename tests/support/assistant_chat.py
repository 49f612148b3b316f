"""Tests of 智能管家: the assistant's pages (fixtures, route-argument makers for the property test)."""
