"""WeChat web authorization (公众号网页授权): the real protocol over HTTPS.

authorize (the user's browser) → code → sns/oauth2/access_token → sns/userinfo. Base URLs are settings,
so tests point them at a fake server on a loopback port and `make run` at the built-in simulator.
"""
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import requests


class WeChatError(Exception):
    """WeChat answered with an errcode, or could not be reached. ``message`` is for the user."""
    message = "微信授权失败，请返回重新扫码"

    def __init__(self, errcode=None, errmsg=""):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class InvalidCode(WeChatError):
    message = "授权码无效，请重新扫码"


class CodeUsed(WeChatError):
    message = "授权码已被使用，请重新扫码"


class Expired(WeChatError):
    message = "授权已过期，请重新扫码"


class WeChatUnavailable(WeChatError):
    message = "暂时连不上微信，请稍后重新扫码"


ERRORS = {40029: InvalidCode, 40163: CodeUsed, 42001: Expired, 42003: Expired, -1: WeChatUnavailable}


@dataclass
class WeChatProfile:
    appid: str
    openid: str
    unionid: str | None = None
    nickname: str = ""
    headimgurl: str = ""
    sex: int = 0
    province: str = ""
    city: str = ""
    country: str = ""
    is_snapshot: bool = False  # a 快照页 visit: a virtual identity that must not become an account


class WeChatOAuth:
    def __init__(self, appid, secret, *, open_base, api_base, timeout=5.0, http=None):
        self.appid = appid
        self.secret = secret
        self.open_base = open_base.rstrip("/")
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.http = http or requests.Session()

    def authorize_url(self, redirect_uri, state, scope="snsapi_userinfo"):
        # The parameter order is checked by WeChat; keep it.
        return (f"{self.open_base}/connect/oauth2/authorize?appid={self.appid}"
                f"&redirect_uri={quote(redirect_uri, safe='')}&response_type=code&scope={scope}"
                f"&state={state}#wechat_redirect")

    def fetch_identity(self, code) -> WeChatProfile:
        """An snsapi_base code: who it is (openid, and unionid when WeChat gives it), no profile. Raises
        WeChatError."""
        token = self._token(code)
        return WeChatProfile(appid=self.appid, openid=token["openid"], unionid=token.get("unionid") or None,
                             is_snapshot=str(token.get("is_snapshotuser", "0")) == "1")

    def fetch_profile(self, code) -> WeChatProfile:
        """Exchange an (snsapi_userinfo) authorization code for the user's profile. Raises WeChatError."""
        token = self._token(code)
        openid = token["openid"]
        if str(token.get("is_snapshotuser", "0")) == "1":
            return WeChatProfile(appid=self.appid, openid=openid, is_snapshot=True)
        info = self._get("/sns/userinfo", access_token=token["access_token"], openid=openid, lang="zh_CN")
        return WeChatProfile(
            appid=self.appid, openid=openid,
            unionid=info.get("unionid") or token.get("unionid") or None,
            nickname=str(info.get("nickname") or "")[:64], headimgurl=str(info.get("headimgurl") or "")[:512],
            sex=_int(info.get("sex")), province=str(info.get("province") or "")[:40],
            city=str(info.get("city") or "")[:40], country=str(info.get("country") or "")[:40])

    def _token(self, code):
        token = self._get("/sns/oauth2/access_token", appid=self.appid, secret=self.secret, code=code,
                          grant_type="authorization_code")
        if not token.get("openid") or not token.get("access_token"):
            raise WeChatUnavailable(None, "access_token response without openid")
        return token

    def _get(self, path, **params):
        return request_json(self.http, "GET", f"{self.api_base}{path}?{urlencode(params)}", self.timeout)


def request_json(http, method, url, timeout, **kwargs):
    """One call to a WeChat API: its JSON, or an error. WeChat reports errors with HTTP 200 and an
    errcode; any errcode but 0 is one."""
    try:
        response = http.request(method, url, timeout=timeout, **kwargs)
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as error:
        # Not str(error): a connection error quotes the URL, and the URL carries the secret.
        raise WeChatUnavailable(None, type(error).__name__) from error
    errcode = _int(data.get("errcode"))
    if errcode:
        raise ERRORS.get(errcode, WeChatError)(errcode, str(data.get("errmsg", "")))
    return data


def _int(value):
    """WeChat sends some numbers as strings (sex: "1"); read them leniently."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
