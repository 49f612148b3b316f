"""The notifications tests' fixtures: users the fake WeChat reaches, an empty queue per test."""
from tests.notifications.conftest import empty_queue, fake_wechat, reachable, wechat  # noqa: F401
