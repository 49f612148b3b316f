"""What the back office's screens for the dashboard and personal-data exports need in tests: route arguments for the property test
(``tests.support.admin.argument``), its form baselines, and fixtures."""
