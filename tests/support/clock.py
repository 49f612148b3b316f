"""The app's clock in tests: fixed at NOW, moved on by the test that needs time to pass (the ``clock``
fixture of tests/conftest.py resets it for every test)."""
from datetime import UTC, datetime, timedelta

# 2026-11-25 10:00 in Shanghai: the day every age in the tests is counted on.
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


class Clock:
    """The app's clock in tests: fixed, moved on by the test that needs time to pass."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


CLOCK = Clock()
