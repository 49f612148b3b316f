"""Helpers the auth views share: the WeChat client for this configuration, safe return paths."""
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.urls import iri_to_uri

from app.auth.simulator import SIM_APPID, SIM_SECRET
from app.auth.wechat import WeChatOAuth

NO_RETURN = ("/login", "/logout", "/m/", "/auth/")
MAX_RETURN = 500  # a return path is kept with a QR code (String(512)); none of our pages needs more


def wechat_credentials():
    """(appid, secret, api_base, open_base): the configured official account, or without WECHAT_APPID
    (development) the built-in simulator's."""
    config = current_app.config
    if config["WECHAT_APPID"]:
        return config["WECHAT_APPID"], config["WECHAT_SECRET"], config["WECHAT_API_BASE"], config["WECHAT_OPEN_BASE"]
    base = config["SITE_URL"].rstrip("/") + "/dev/wechat"
    return SIM_APPID, SIM_SECRET, base, base


def wechat_oauth() -> WeChatOAuth:
    appid, secret, api_base, open_base = wechat_credentials()
    return WeChatOAuth(appid, secret, open_base=open_base, api_base=api_base,
                       timeout=current_app.config["WECHAT_TIMEOUT"])


def safe_next(target, default="/"):
    """``target`` if it is a path on this site (not a login page), else ``default``: a return address
    from a query string must never send the user elsewhere."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if parts.path.startswith(NO_RETURN):
        return default
    target = iri_to_uri(target)  # it may travel in a header (Location, HX-Redirect): ASCII only
    return target if len(target) <= MAX_RETURN else default
