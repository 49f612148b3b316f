"""The configuration the tests run the app with, and a production one."""
import base64

from tests.support.clock import CLOCK
from tests.support.pay import merchant_config

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "DATA_KEY": base64.b64encode(bytes(range(32))).decode(),
    "CLOCK": CLOCK,
    "RATELIMIT_QUOTE": "100000 per minute",
    "RATELIMIT_QR_CREATE": "100000 per minute",
    "RATELIMIT_QR_POLL": "100000 per minute",
    "RATELIMIT_PARTNER_LOGIN": "100000 per minute",
    "RATELIMIT_PARTNER_LOOKUP": "100000 per minute",
    "RATELIMIT_ASSISTANT": "100000 per minute", "RATELIMIT_ASSISTANT_IP": "100000 per minute",
    "PAGE_CACHE_SECONDS": 0,  # on in tests/catalog/test_cache.py, which drives its clock
    "LLM_BASE_URL": "",  # the embedded engine, whatever the shell running the tests has set (tests/assistant/test_llm.py sets its fake)
    "JOBS_IMMEDIATE": True,  # jobs run where they are queued; app.jobs.run_due() runs the ones due later
}


def production(**config):
    """A production configuration with a (test) WeChat official account and merchant."""
    from app.payments.simulator import SimulatorKeys
    keys = SimulatorKeys.generate()
    return {**TEST_CONFIG, "APP_ENV": "production", "WECHAT_APPID": "wx0123456789abcdef",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            **merchant_config(keys, "https://api.mch.weixin.qq.com", "https://example.com/pay/wechat/notify"),
            **config}
