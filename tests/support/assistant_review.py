"""Tests of 智能管家: the review term library and its checks (fixtures, route-argument makers for the property test)."""
