"""Each test here starts with an empty job queue, as the notifications tests do; ``reachable`` users are in
tests/support/notifications.py."""
import pytest


@pytest.fixture(autouse=True)
def _empty_queue(empty_queue):
    """Nothing queued for later by an earlier test."""
