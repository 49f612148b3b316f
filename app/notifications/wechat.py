"""WeChat template messages (the official account's 模板消息): the real protocol over HTTPS.

GET cgi-bin/token (client_credential) → access_token; POST cgi-bin/message/template/send with
{touser, template_id, url, data}. Base URL and credentials are settings; tests point them at the fake
WeChat, `make run` at the simulator. Every send is its own job, so the access token is kept per process
until shortly before it expires (WeChat limits how often one may be fetched), and dropped when WeChat
says it is no longer valid.
"""
import threading
import time

import requests

from app.auth.wechat import WeChatError, request_json

TOKEN_ERRORS = {40001, 40014, 42001}  # invalid, malformed or expired access token
_tokens = {}  # (api_base, appid, secret) → (access token, monotonic time to stop using it)
_tokens_lock = threading.Lock()


class TemplateMessages:
    def __init__(self, appid, secret, *, api_base, template_id, timeout=5.0, http=None):
        self.appid, self.secret, self.template_id = appid, secret, template_id
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.http = http or requests.Session()

    def send(self, openid, url, data):
        """Send one message; raises WeChatError."""
        body = {"touser": openid, "template_id": self.template_id, "url": url,
                "data": {key: {"value": value} for key, value in data.items()}}
        token = self._token()
        try:
            return self._call("POST", "/cgi-bin/message/template/send", params={"access_token": token}, json=body)
        except WeChatError as error:
            if error.errcode in TOKEN_ERRORS:
                with _tokens_lock:
                    _tokens.pop(self._key, None)
            raise

    @property
    def _key(self):
        return self.api_base, self.appid, self.secret

    def _token(self):
        with _tokens_lock:
            token, until = _tokens.get(self._key, (None, 0.0))
        if token and time.monotonic() < until:
            return token
        answer = self._call("GET", "/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        lifetime = int(answer.get("expires_in") or 7200)
        with _tokens_lock:
            _tokens[self._key] = answer["access_token"], time.monotonic() + max(lifetime - 300, 0)
        return answer["access_token"]

    def _call(self, method, path, **kwargs):
        return request_json(self.http, method, self.api_base + path, self.timeout, **kwargs)
