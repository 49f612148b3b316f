"""The WeChat simulator under several workers: a code issued by one app is exchanged at another, once,
within five minutes."""
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from app.auth.simulator import SIM_APPID, SIM_SECRET
from tests.support.config import TEST_CONFIG

CALLBACK = "http://127.0.0.1:5000/auth/wechat/callback"


@pytest.fixture(scope="module")
def other_worker(app, database_url):
    """A second app on the same database and instance folder, as a second gunicorn worker is."""
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})


def authorize(app, user="li", nickname=""):
    response = app.test_client().post("/dev/wechat/connect/oauth2/authorize", data={
        "action": "allow", "user": user, "nickname": nickname, "redirect_uri": CALLBACK, "state": "s1"})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def exchange(app, code):
    return app.test_client().get("/dev/wechat/sns/oauth2/access_token", query_string={
        "appid": SIM_APPID, "secret": SIM_SECRET, "code": code, "grant_type": "authorization_code"}).get_json()


def userinfo(app, token, openid):
    return app.test_client().get("/dev/wechat/sns/userinfo", query_string={
        "access_token": token, "openid": openid, "lang": "zh_CN"}).get_json()


def test_a_code_from_one_worker_is_accepted_by_another_once(app, other_worker):
    code = authorize(app)
    token = exchange(other_worker, code)
    assert "errcode" not in token and token["openid"].startswith("o")
    assert userinfo(app, token["access_token"], token["openid"])["nickname"] == "李晓红"
    assert userinfo(other_worker, token["access_token"], token["openid"])["nickname"] == "李晓红"
    assert exchange(app, code)["errcode"] == 40163  # used, whichever worker is asked
    assert exchange(other_worker, code)["errcode"] == 40163


def test_a_new_simulated_user_keeps_the_nickname_across_workers(app, other_worker):
    token = exchange(other_worker, authorize(app, user="new", nickname="跨进程小王"))
    assert userinfo(app, token["access_token"], token["openid"])["nickname"] == "跨进程小王"


def test_a_code_expires_after_five_minutes(app, other_worker, clock):
    fresh, stale = authorize(app), authorize(app)
    clock.advance(minutes=4, seconds=59)
    assert "access_token" in exchange(other_worker, fresh)
    clock.advance(seconds=1)
    assert exchange(other_worker, stale)["errcode"] == 42003


def test_an_access_token_expires_after_two_hours(app, other_worker, clock):
    token = exchange(app, authorize(app))
    clock.advance(hours=2)
    assert userinfo(other_worker, token["access_token"], token["openid"])["errcode"] == 42001


def test_codes_and_tokens_not_signed_by_this_site_are_refused(app, other_worker):
    assert exchange(app, "guessed-code")["errcode"] == 40029
    forged = create_app({**TEST_CONFIG, "SECRET_KEY": "someone-else", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert exchange(app, authorize(forged))["errcode"] == 40029
    token = exchange(app, authorize(app))
    assert userinfo(app, token["access_token"] + "x", token["openid"])["errcode"] == 40001
    assert userinfo(app, token["access_token"], "o-someone-else")["errcode"] == 40003
