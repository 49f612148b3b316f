"""Baseline every page gets: CSP and hardening headers, cookie flags, CSRF, Chinese error pages."""
import json
import logging
import re
from html import unescape

import pytest
from flask import Blueprint

from app import create_app
from tests.support.config import TEST_CONFIG, production
from tests.support.web import csrf_token


def test_every_page_has_a_strict_content_security_policy(client):
    for path in ("/", "/products", "/products/anxin-million-medical", "/missing"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy


def test_hardening_headers(client):
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_and_htmx_is_self_hosted(client):
    html = client.get("/").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="/static/' in attrs for attrs in scripts)
    assert 'src="/static/vendor/htmx.min.js"' in html
    assert "style=" not in html  # inline styles would need 'unsafe-inline'
    assert client.get("/static/vendor/htmx.min.js").status_code == 200


def test_htmx_is_configured_for_the_csp_and_to_swap_422(client):
    html = client.get("/").get_data(as_text=True)
    config = json.loads(unescape(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html).group(1)))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    rules = config["responseHandling"]
    assert rules.index({"code": "422", "swap": True}) < rules.index({"code": "[45]..", "swap": False, "error": True})


def test_reading_pages_set_no_cookie_and_posting_pages_carry_the_token(client):
    for path in ("/", "/products?q=医疗", "/products/anxin-million-medical/documents/notice"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers and "X-CSRFToken" not in response.get_data(as_text=True)
    html = client.get("/products/anxin-million-medical").get_data(as_text=True)
    assert re.search(r'<body[^>]* hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'>', html)


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.get("/products/anxin-million-medical")  # renders a CSRF token: starts a session
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure():
    app = create_app(production(SESSION_COOKIE_SECURE=True))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/missing")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATA_KEY"])
def test_app_refuses_to_boot_without_secrets(missing):
    with pytest.raises(RuntimeError, match=missing):
        create_app({**TEST_CONFIG, missing: None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_refuses_the_wechat_simulator():
    with pytest.raises(RuntimeError, match="WECHAT_APPID"):
        create_app(production(WECHAT_APPID=""))
    app = create_app(production())
    assert app.test_client().get("/dev/wechat/connect/oauth2/authorize").status_code == 404


def test_production_refuses_the_wechat_pay_simulator():
    with pytest.raises(RuntimeError, match="WECHATPAY_MCHID"):
        create_app(production(WECHATPAY_MCHID=""))
    with pytest.raises(RuntimeError, match="WECHATPAY_APIV3_KEY"):  # a merchant half configured
        create_app(production(WECHATPAY_APIV3_KEY=""))
    client = create_app(production()).test_client()
    assert client.get("/dev/wechatpay/cashier/abc").status_code == 404
    assert client.post("/dev/wechatpay/v3/pay/transactions/native", json={}).status_code == 404


def test_post_without_csrf_token_is_refused_in_chinese(client):
    response = client.post("/products/anxin-million-medical/quote", data={"age": "30"})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)


def test_csrf_token_in_htmx_header_is_accepted(client):
    token = csrf_token(client)
    response = client.post("/products/anxin-million-medical/quote", data={"age": "30", "plan": "basic"},
                           headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code != 400


def test_404_and_405_are_chinese_pages_in_the_layout(client):
    response = client.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "页面不存在" in html and '<a class="logo"' in html
    response = client.get("/products/anxin-million-medical/quote")
    assert response.status_code == 405 and "请求方式不支持" in response.get_data(as_text=True)


def test_malformed_slugs_are_404_not_database_errors(client):
    for path in ("/products/%00", "/products/ABC", "/products/a%27b", "/products/" + "a" * 500):
        assert client.get(path).status_code == 404


def test_unexpected_error_is_a_chinese_500_page_and_logged_without_pii(caplog):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    broken = Blueprint("broken", __name__)

    @broken.get("/broken")
    def fail():
        raise ValueError("insured 110101199003071234 phone 13800138000")

    app.register_blueprint(broken)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/broken")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "服务器开小差了" in html and '<a class="logo"' in html
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "ValueError" in logged
    assert "110101199003071234" not in logged and "13800138000" not in logged
    assert "110***************" in logged and "138********" in logged


def test_health_check_answers_plainly(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"
    assert response.headers["Cache-Control"] == "no-store"


def test_logs_redact_id_and_phone_numbers_but_keep_order_numbers():
    from app.core.logs import redact
    line = redact("id=11010119900501131X phone 13800138000 order DD202611251234567890 policy P202611250123456789")
    assert "11010119900501131X" not in line and "13800138000" not in line
    assert "DD202611251234567890" in line and "P202611250123456789" in line
