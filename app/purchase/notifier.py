"""WeChat template messages (the official account's 模板消息): the real protocol over HTTPS.

GET cgi-bin/token (client_credential) → access_token; POST cgi-bin/message/template/send with
{touser, template_id, url, data}. Base URL and credentials are settings; tests point them at the fake
WeChat, `make run` at the simulator.
"""
import requests

from app.auth.wechat import request_json


class TemplateMessages:
    def __init__(self, appid, secret, *, api_base, template_id, timeout=5.0, http=None):
        self.appid, self.secret, self.template_id = appid, secret, template_id
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.http = http or requests.Session()
        self._token = None

    def send(self, openid, url, data):
        """Send one message; raises WeChatError. The access token is fetched once and reused."""
        if self._token is None:
            self._token = self._call("GET", "/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})["access_token"]
        body = {"touser": openid, "template_id": self.template_id, "url": url,
                "data": {key: {"value": value} for key, value in data.items()}}
        return self._call("POST", "/cgi-bin/message/template/send", params={"access_token": self._token},
                          json=body)

    def _call(self, method, path, **kwargs):
        return request_json(self.http, method, self.api_base + path, self.timeout, **kwargs)
