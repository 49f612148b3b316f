"""Application factory: load config, bind extensions, register blueprints, CLI and error pages."""
import os

from flask import Flask

from app.config import Config
from app.extensions import csrf, db, htmx, limiter, login_manager, migrate, shared_cache

PAY_SETTINGS = ("WECHATPAY_APPID", "WECHATPAY_PRIVATE_KEY", "WECHATPAY_CERT_SERIAL_NO", "WECHATPAY_APIV3_KEY",
                "WECHATPAY_PUBLIC_KEY", "WECHATPAY_PUBLIC_KEY_ID")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config=None):
    app = Flask(__name__, instance_path=os.path.join(ROOT, "instance"),
                template_folder=os.path.join(ROOT, "templates"),
                static_folder=os.path.join(ROOT, "static"))
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    _check_config(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    shared_cache.init_app(app)

    from app.core import database, errors, logs, routing, security, templating
    database.init_app(app)
    errors.init_app(app)
    logs.init_app(app)
    routing.init_app(app)
    security.init_app(app)
    templating.init_app(app)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from app.health import bp as health_bp
    app.register_blueprint(health_bp)
    from app.catalog import bp as catalog_bp
    app.register_blueprint(catalog_bp)
    from app.auth import bp as auth_bp
    from app.auth import login
    app.register_blueprint(auth_bp)
    login.init_app(app)
    from app import agreements
    agreements.init_app(app)
    from app.purchase import bp as purchase_bp
    app.register_blueprint(purchase_bp)
    from app.account import bp as account_bp
    app.register_blueprint(account_bp)
    from app.orders import bp as orders_bp
    app.register_blueprint(orders_bp)
    from app.vouchers import bp as vouchers_bp
    from app.vouchers import partner_bp
    app.register_blueprint(vouchers_bp)
    app.register_blueprint(partner_bp)
    from app import claims
    claims.init_app(app)
    from app import assistant
    assistant.init_app(app)
    from app import admin
    admin.init_app(app)
    if not app.config["WECHAT_APPID"]:
        from app.auth import simulator
        simulator.init_app(app)
    if not app.config["WECHATPAY_MCHID"]:
        from app.payments import simulator as pay_simulator
        pay_simulator.init_app(app)

    from app import jobs
    jobs.init_app(app)
    from app import cli
    cli.init_app(app)
    return app


def _check_config(app):
    """Refuse to boot without secrets rather than run on a guessable default."""
    missing = [key for key in ("SECRET_KEY", "DATA_KEY") if not app.config.get(key)]
    if missing:
        raise RuntimeError(f"Missing configuration: {', '.join(missing)} (make run writes development "
                           f"values to instance/dev.env)")
    if app.config["APP_ENV"] == "production" and not app.config.get("WECHAT_APPID"):
        raise RuntimeError("Missing configuration: WECHAT_APPID (the WeChat simulator is refused in production)")
    if app.config["APP_ENV"] == "production" and not app.config.get("WECHATPAY_MCHID"):
        raise RuntimeError("Missing configuration: WECHATPAY_MCHID (the WeChat Pay simulator is refused in "
                           "production)")
    if app.config.get("WECHATPAY_MCHID"):
        missing = [key for key in PAY_SETTINGS if not app.config.get(key)]
        if missing:
            raise RuntimeError(f"Missing configuration: {', '.join(missing)} (WeChat Pay merchant settings)")
    if (app.config["APP_ENV"] == "production" and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://")
            and _served_by_gunicorn() and os.environ.get("WEB_CONCURRENCY", "").strip() != "1"):
        raise RuntimeError("Missing configuration: REDIS_URL (each gunicorn worker would count the rate limits "
                           "on its own; only WEB_CONCURRENCY=1, a single worker, may run without it)")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "app.db")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):  # the scheme some hosts hand out; SQLAlchemy wants postgresql://
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://"):]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database host that stops answering fails a request (and /readyz) in seconds, not at TCP's timeout.
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"connect_timeout": 5, **options.get("connect_args", {})}


def _served_by_gunicorn():
    """gunicorn's arbiter sets SERVER_SOFTWARE before it loads the app, in the master and every worker.
    Its worker count can come from -w, a config file or WEB_CONCURRENCY; only WEB_CONCURRENCY=1 vouches for
    one. CLI commands (cron) and tests are single processes and are not gunicorn."""
    return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/")
