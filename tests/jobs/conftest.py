from tests.notifications.conftest import empty_queue, fake_wechat, reachable, wechat  # noqa: F401
from tests.orders.conftest import fake_pay, pay  # noqa: F401
