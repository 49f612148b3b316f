"""What the back office's screens for agreement versions need in tests: route arguments for the property test
(``tests.support.admin.argument``), its form baselines, and fixtures."""
