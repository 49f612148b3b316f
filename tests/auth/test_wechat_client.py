"""The WeChat OAuth client against the fake WeChat server: the real requests, the real JSON."""
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.auth import simulator
from app.auth.wechat import CodeUsed, Expired, InvalidCode, WeChatError, WeChatOAuth, WeChatUnavailable, _int


@pytest.fixture()
def client(fake_wechat):
    yield WeChatOAuth(simulator.SIM_APPID, simulator.SIM_SECRET, open_base=fake_wechat.base,
                      api_base=fake_wechat.base, timeout=2)
    fake_wechat.state.fail_next.clear()


def code_for(client, user="zhang"):
    url = client.authorize_url("http://127.0.0.1/auth/wechat/callback", "s1")
    page = requests.post(url.split("#")[0], data={"user": user, "action": "allow",
                                                  "redirect_uri": "http://127.0.0.1/auth/wechat/callback",
                                                  "state": "s1"}, allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(page.headers["Location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def test_authorize_url_keeps_wechats_parameter_order(client):
    url = client.authorize_url("https://www.example.cn/auth/wechat/callback?x=1", "abc123")
    assert url.endswith("#wechat_redirect")
    query = url.split("?", 1)[1]
    assert [part.split("=")[0] for part in query.split("#")[0].split("&")] == [
        "appid", "redirect_uri", "response_type", "scope", "state"]
    assert "redirect_uri=https%3A%2F%2Fwww.example.cn%2Fauth%2Fwechat%2Fcallback%3Fx%3D1" in url
    assert "scope=snsapi_userinfo" in url


def test_code_gives_the_profile(client):
    profile = client.fetch_profile(code_for(client, "li"))
    assert profile.nickname == "李晓红" and profile.sex == 2 and profile.city == "上海"
    assert profile.openid.startswith("o") and profile.unionid.startswith("u") and not profile.is_snapshot
    assert profile.headimgurl.endswith(".svg")


def test_a_code_works_once(client):
    code = code_for(client)
    client.fetch_profile(code)
    with pytest.raises(CodeUsed):
        client.fetch_profile(code)


def test_unknown_code(client):
    with pytest.raises(InvalidCode) as error:
        client.fetch_profile("made-up")
    assert error.value.errcode == 40029


def test_a_code_expires_after_five_minutes(client, clock):
    code = code_for(client)
    clock.advance(minutes=5)
    with pytest.raises(Expired) as error:
        client.fetch_profile(code)
    assert error.value.errcode == 42003


def test_wrong_secret_is_an_error(fake_wechat):
    wrong = WeChatOAuth(simulator.SIM_APPID, "wrong", open_base=fake_wechat.base, api_base=fake_wechat.base)
    with pytest.raises(WeChatError) as error:
        wrong.fetch_profile(code_for(wrong))
    assert error.value.errcode == 40125


def test_snapshot_users_are_flagged_without_asking_for_userinfo(client):
    profile = client.fetch_profile(code_for(client, "snapshot"))
    assert profile.is_snapshot and profile.nickname == ""


def test_missing_unionid_is_none(client):
    assert client.fetch_profile(code_for(client, "no-unionid")).unionid is None


def test_busy_and_unreachable_wechat(client, fake_wechat):
    fake_wechat.state.fail_next["access_token"] = [-1]
    with pytest.raises(WeChatUnavailable):
        client.fetch_profile(code_for(client))
    nowhere = WeChatOAuth("wx", "s", open_base="http://127.0.0.1:9", api_base="http://127.0.0.1:9", timeout=1)
    with pytest.raises(WeChatUnavailable) as error:
        nowhere.fetch_profile("code")
    assert "s" != error.value.errmsg and "secret" not in str(error.value)  # the URL (with the secret) is not quoted


def test_numbers_are_read_leniently():
    assert _int("1") == 1 and _int(2) == 2 and _int(None) == 0 and _int("x") == 0
