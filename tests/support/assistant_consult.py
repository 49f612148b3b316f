"""Tests of 智能管家: online consultation (fixtures, route-argument makers for the property test)."""
