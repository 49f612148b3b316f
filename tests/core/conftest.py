# Fixtures of other capabilities that the cross-cutting tests here use: a customer, partner staff, offers.
from tests.purchase.conftest import customer  # noqa: F401
from tests.vouchers.conftest import fake_pay, fake_wechat, make_offer, pay, staff_of, wechat  # noqa: F401
