"""What the back office's screens for products and rate tables need in tests: route arguments for the property test
(``tests.support.admin.argument``), its form baselines, and fixtures."""
