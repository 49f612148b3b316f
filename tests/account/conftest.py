from tests.auth.conftest import desktop, fake_wechat, phone, wechat  # noqa: F401
from tests.orders.conftest import fake_pay, pay  # noqa: F401
from tests.purchase.conftest import customer  # noqa: F401
from tests.vouchers.conftest import make_offer  # noqa: F401
