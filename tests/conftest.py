"""Fixtures: one migrated, demo-seeded database per run (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), a test client with real CSRF, a fixed clock, and a live server for the
browser tests. What tests in several folders share, helpers and fixtures, is in tests/support."""
import os
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.support.clock import CLOCK, NOW
from tests.support.config import TEST_CONFIG

# The fixtures of tests/support that tests in several folders take (the helpers are imported from there).
pytest_plugins = ["tests.support.agreements", "tests.support.wechat", "tests.support.pay", "tests.support.vouchers",
                  "tests.support.notifications", "tests.support.admin_catalog", "tests.support.admin_agreements",
                  "tests.support.admin_partners", "tests.support.admin_dashboard", "tests.support.rates", "tests.support.assistant_review",
                  "tests.support.assistant_llm", "tests.support.assistant_chat", "tests.support.assistant_consult",
                  "tests.support.claims", "tests.support.admin_claims"]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return os.environ.get("TEST_DATABASE_URL") or (
        "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db"))


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # a reused server database: start from nothing
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()  # the schema comes from the migrations, as in production
        runner = app.test_cli_runner()
        result = runner.invoke(args=["seed-demo"])  # the demo catalog and the agreements in force
        assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clock():
    """Every test starts at NOW."""
    CLOCK.now = NOW
    yield CLOCK
    CLOCK.now = NOW


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served by a real HTTP server in a thread, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.fixture()
def member(app):
    """A new signed-in user and their browser (the QR login itself is tested in tests/auth)."""
    from types import SimpleNamespace

    from app.auth.models import User
    from app.core.clock import db_now

    def make(nickname="测试用户", birth_date=None, user_agent=None):
        with app.app_context():
            user = User(nickname=nickname, created_at=db_now(), birth_date=birth_date)
            db.session.add(user)
            db.session.commit()
            token, user_id = user.session_token, user.id
        client = app.test_client()
        if user_agent:
            client.environ_base["HTTP_USER_AGENT"] = user_agent
        with client.session_transaction() as session:
            session["_user_id"] = token
            session["_fresh"] = True
        return SimpleNamespace(client=client, id=user_id)
    return make
