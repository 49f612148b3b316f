# The fake WeChat and the desktop/phone helpers of the login tests serve the guardian flow too.
from tests.auth.conftest import desktop, fake_wechat, phone, wechat  # noqa: F401
