"""Error pages without the database, the probes, the request size limit, and the worker rule."""
import os
import socket
import subprocess
import sys

import pytest
from flask import Flask

from app import ROOT, _check_config, create_app
from app.core.errors import MESSAGES
from tests.support.config import TEST_CONFIG, production
from tests.support.web import HX, csrf_token


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["postgresql", "sqlite"])
def database_down(request, tmp_path):
    """An app whose database cannot be reached, and a signed-in browser of it."""
    uri = (f"postgresql://app:app@127.0.0.1:{closed_port()}/app" if request.param == "postgresql"
           else "sqlite:///" + str(tmp_path / "no-such-directory" / "app.db"))
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": uri})
    signed_in = app.test_client()
    with signed_in.session_transaction() as session:
        session["_user_id"] = "a-session-token"
        session["_fresh"] = True
    return app, signed_in


def test_a_signed_in_user_gets_the_chinese_page_while_the_database_is_down(database_down):
    app, signed_in = database_down
    for path in ("/", "/products", "/me", "/no/such/page"):
        response = signed_in.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert "服务暂时不可用" in html and '<a class="logo"' in html and "Internal Server Error" not in html
    # The page is an anonymous visitor's, but the session is kept: the user is still signed in afterwards.
    assert "Set-Cookie" not in response.headers


def test_htmx_requests_get_the_message_while_the_database_is_down(database_down):
    app, signed_in = database_down
    response = signed_in.get("/products?q=医疗", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "服务暂时不可用" in html and "<html" not in html and "Internal Server Error" not in html


def test_anonymous_visitors_get_the_same_page(database_down):
    app, _ = database_down
    response = app.test_client().get("/products")
    assert response.status_code == 503 and "服务暂时不可用" in response.get_data(as_text=True)


def test_probes_while_the_database_is_down(database_down):
    app, _ = database_down
    probe = app.test_client()  # load balancers send no cookies
    assert probe.get("/healthz").status_code == 200
    response = probe.get("/readyz")
    assert response.status_code == 503 and "无法连接数据库" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_not_ready_while_the_configured_redis_is_down(database_url):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                      "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"})
    response = app.test_client().get("/readyz")
    text = response.get_data(as_text=True)
    assert response.status_code == 503 and "Redis" in text and "数据库" not in text


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL (tests/run.sh starts one)")
def test_ready_with_redis(database_url):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                      "REDIS_URL": os.environ["TEST_REDIS_URL"]})
    assert app.test_client().get("/readyz").status_code == 200


def test_a_20_mb_form_is_refused_in_chinese_before_it_is_read(client):
    body = b"age=30&plan=" + b"x" * (20 * 1024 * 1024)
    token = csrf_token(client)
    for headers in ({}, HX):
        response = client.post("/products/anxin-million-medical/quote", data=body,
                               content_type="application/x-www-form-urlencoded",
                               headers={"X-CSRFToken": token, **headers})
        html = response.get_data(as_text=True)
        assert response.status_code == 413 and "提交的内容太大" in html
    assert "<html" not in html  # the htmx request got the message alone


def test_error_messages_say_ni():
    texts = [text for pair in MESSAGES.values() for text in pair]
    folder = os.path.join(os.path.dirname(__file__), "..", "..", "templates", "errors")
    texts += [open(os.path.join(folder, name), encoding="utf-8").read() for name in os.listdir(folder)]
    import app.core.errors as errors_module
    texts.append(open(errors_module.__file__, encoding="utf-8").read())
    assert not [text for text in texts if "您" in text]


def production_config(**config):
    return production(**{"RATELIMIT_STORAGE_URI": "memory://", **config})


def checked(config):
    app = Flask(__name__)
    app.config.update(config)
    _check_config(app)


def test_production_under_gunicorn_needs_redis_unless_one_worker(monkeypatch):
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")  # what gunicorn's arbiter sets
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        checked(production_config())
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        checked(production_config())
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    checked(production_config())
    monkeypatch.delenv("WEB_CONCURRENCY")
    checked(production_config(REDIS_URL="redis://redis:6379/0", RATELIMIT_STORAGE_URI="redis://redis:6379/0"))
    checked({**production_config(), "APP_ENV": "development"})


def test_cli_and_tests_are_one_process(monkeypatch):
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    checked(production_config())


def test_gunicorn_with_two_workers_refuses_production_without_redis():
    """The real thing: gunicorn's arbiter is what the check recognises."""
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "WEB_CONCURRENCY")}
    env.update({key: value for key, value in production().items()
                if key in ("SECRET_KEY", "DATA_KEY", "APP_ENV") or key.startswith("WECHAT")})
    env["DATABASE_URL"] = "sqlite://"
    result = subprocess.run([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{closed_port()}",
                             "--chdir", ROOT, "wsgi:app"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "Missing configuration: REDIS_URL" in result.stderr
