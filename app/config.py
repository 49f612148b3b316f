"""Configuration read from the environment.

Nothing here has a fallback secret: a deployment without SECRET_KEY or DATA_KEY refuses to boot
(see ``create_app``). ``make run`` writes development keys to ``instance/dev.env``.
"""
import os


class Config:
    APP_ENV = os.environ.get("APP_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # 32 random bytes, base64-encoded: the AES-GCM key for personal information at rest.
    DATA_KEY = os.environ.get("DATA_KEY")
    # Keys rotated out: still decrypt what they encrypted (comma-separated, base64).
    DATA_KEYS_PREVIOUS = os.environ.get("DATA_KEYS_PREVIOUS", "")
    # Unset: the address `flask run` serves here (its FLASK_RUN_PORT, default 5000); `make run PORT=` sets SITE_URL.
    SITE_URL = os.environ.get("SITE_URL") or f"http://127.0.0.1:{os.environ.get('FLASK_RUN_PORT') or 5000}"
    # Request bodies larger than this answer 413 before they are read (uploads will get their own limit).
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # default set in create_app
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = APP_ENV == "production"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = APP_ENV == "production"
    PREFERRED_URL_SCHEME = "https" if APP_ENV == "production" else "http"

    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Rate limits are counted in Redis, shared by every worker; in memory:// each process counts on its own,
    # so production under several gunicorn workers refuses to start without it (see _check_config).
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis gone: each process counts on its own until it is back, rather than every limited page failing.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Limits sit on the endpoints that do work per request (quotes; later login, claims, redemption).
    # Cached catalog pages carry none: flood protection for plain reads belongs to the proxy in front.
    RATELIMIT_QUOTE = os.environ.get("RATELIMIT_QUOTE", "60 per minute")

    # Background jobs (app/jobs): queued in Redis when REDIS_URL is set (consumers on any number of hosts),
    # else in this SQLite file (default instance/jobs.db). Queues of one name are one queue.
    JOBS_FILE = os.environ.get("JOBS_FILE", "")
    JOBS_NAME = os.environ.get("JOBS_NAME", "wesure")
    JOBS_IMMEDIATE = False  # tests: a job runs where it is queued (see app.jobs.run_due)

    # WeChat web authorization (公众号网页授权). Without WECHAT_APPID, development uses the built-in
    # simulator at /dev/wechat; production refuses to boot without it.
    WECHAT_APPID = os.environ.get("WECHAT_APPID", "")
    WECHAT_SECRET = os.environ.get("WECHAT_SECRET", "")
    WECHAT_OPEN_BASE = os.environ.get("WECHAT_OPEN_BASE", "https://open.weixin.qq.com")
    WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com")
    WECHAT_TIMEOUT = float(os.environ.get("WECHAT_TIMEOUT", "5"))

    # The template message that reminds of an unfinished application (断点续保).
    WECHAT_TEMPLATE_REMINDER = os.environ.get("WECHAT_TEMPLATE_REMINDER", "unfinished-application-reminder")
    WECHAT_TEMPLATE_CLAIM = os.environ.get("WECHAT_TEMPLATE_CLAIM", "claim-progress")
    WECHAT_TEMPLATE_CONSULT = os.environ.get("WECHAT_TEMPLATE_CONSULT", "consult-reply")
    # 推广信息 (sent only to users who allow them).
    WECHAT_TEMPLATE_PROMOTION = os.environ.get("WECHAT_TEMPLATE_PROMOTION", "promotion")

    # WeChat Pay API v3 (Native, JSAPI, H5; WECHATPAY_APPID is the official account whose openids pay with
    # JSAPI, so it is WECHAT_APPID in production). Without WECHATPAY_MCHID, development pays through the built-in
    # simulator at /dev/wechatpay; production refuses to boot without it. Keys are PEM text or its
    # base64 body; the platform is trusted through its public key (PUB_KEY_ID_…).
    WECHATPAY_MCHID = os.environ.get("WECHATPAY_MCHID", "")
    WECHATPAY_APPID = os.environ.get("WECHATPAY_APPID", "")
    WECHATPAY_PRIVATE_KEY = os.environ.get("WECHATPAY_PRIVATE_KEY", "")
    WECHATPAY_CERT_SERIAL_NO = os.environ.get("WECHATPAY_CERT_SERIAL_NO", "")
    WECHATPAY_APIV3_KEY = os.environ.get("WECHATPAY_APIV3_KEY", "")
    WECHATPAY_PUBLIC_KEY = os.environ.get("WECHATPAY_PUBLIC_KEY", "")
    WECHATPAY_PUBLIC_KEY_ID = os.environ.get("WECHATPAY_PUBLIC_KEY_ID", "")
    WECHATPAY_BASE = os.environ.get("WECHATPAY_BASE", "https://api.mch.weixin.qq.com")
    WECHATPAY_NOTIFY_URL = os.environ.get("WECHATPAY_NOTIFY_URL", "")  # default: SITE_URL + /pay/wechat/notify
    WECHATPAY_TIMEOUT = float(os.environ.get("WECHATPAY_TIMEOUT", "5"))
    ORDER_PAY_MINUTES = 30  # an order unpaid this long is closed
    PAY_QUERY_AFTER_SECONDS = 10  # the pay page's poll asks WeChat Pay itself after this long, and as often
    CONSULT_HOURS = os.environ.get("CONSULT_HOURS", "09:00-21:00")  # 在线客服, Beijing time (shown to users)

    # 智能管家's large model: any OpenAI-compatible API (vLLM, Ollama, Qwen, DeepSeek). Without LLM_BASE_URL
    # the embedded engine answers alone (no server, no download). A model silent for LLM_TIMEOUT_SECONDS (before
    # its first token or between two), or not done after LLM_MAX_SECONDS, gives way to it.
    LLM_BASE_URL = os.environ.get("LLM_BASE_URL", "")  # e.g. http://127.0.0.1:8000/v1
    LLM_MODEL = os.environ.get("LLM_MODEL", "")
    LLM_API_KEY = os.environ.get("LLM_API_KEY", "")
    LLM_TIMEOUT_SECONDS = float(os.environ.get("LLM_TIMEOUT_SECONDS", "15"))
    LLM_MAX_SECONDS = float(os.environ.get("LLM_MAX_SECONDS", "60"))

    QR_LOGIN_TTL_SECONDS = 120
    RATELIMIT_QR_CREATE = os.environ.get("RATELIMIT_QR_CREATE", "20 per minute")
    RATELIMIT_QR_POLL = os.environ.get("RATELIMIT_QR_POLL", "90 per minute")
    RATELIMIT_PARTNER_LOGIN = os.environ.get("RATELIMIT_PARTNER_LOGIN", "10 per minute")
    RATELIMIT_PARTNER_LOOKUP = os.environ.get("RATELIMIT_PARTNER_LOOKUP", "30 per minute")
    # The back office (/admin): a session ends after this long without a request, and in any case this long
    # after its login; logins and lookups are rate limited (per IP, per staff member).
    ADMIN_IDLE_MINUTES = int(os.environ.get("ADMIN_IDLE_MINUTES", "30"))
    ADMIN_SESSION_HOURS = int(os.environ.get("ADMIN_SESSION_HOURS", "12"))
    RATELIMIT_ADMIN_LOGIN = os.environ.get("RATELIMIT_ADMIN_LOGIN", "10 per minute")
    RATELIMIT_ADMIN_LOOKUP = os.environ.get("RATELIMIT_ADMIN_LOOKUP", "60 per minute")
    # Number of proxies in front whose X-Forwarded-For is trusted (for the IP shown on the phone, limits).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    CATALOG_PAGE_SIZE = 12
    # How long visitor-independent fragments (catalog results, home lists) are reused; 0 turns it off.
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "30"))
