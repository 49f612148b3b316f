"""Fixtures: one migrated, demo-seeded database per run (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), a test client with real CSRF, a fixed clock, and a live server for the
browser tests."""
import base64
import os
import re
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, text
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db

# 2026-11-25 10:00 in Shanghai: the day every age in the tests is counted on.
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


class Clock:
    """The app's clock in tests: fixed, moved on by the test that needs time to pass."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


CLOCK = Clock()

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
    "PAGE_CACHE_SECONDS": 0,  # on in tests/catalog/test_cache.py, which drives its clock
    "JOBS_IMMEDIATE": True,  # jobs run where they are queued; app.jobs.run_due() runs the ones due later
}


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


def csrf_token(client, path="/products/anxin-million-medical"):
    """The token a browser would send: read from the page's htmx headers, as htmx does."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


HX = {"HX-Request": "true"}


@contextmanager
def count_queries(engine):
    statements = []

    def record(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is not a query
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


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
