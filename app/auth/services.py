"""Helpers the auth views share: the WeChat client for this configuration, safe return paths."""
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.urls import iri_to_uri

from app.auth.simulator import SIM_APPID, SIM_SECRET
from app.auth.wechat import WeChatOAuth

NO_RETURN = ("/login", "/logout", "/m/", "/auth/")


def wechat_oauth() -> WeChatOAuth:
    """The real client with WECHAT_APPID; without it (development), the same client aimed at the
    built-in simulator."""
    config = current_app.config
    if config["WECHAT_APPID"]:
        return WeChatOAuth(config["WECHAT_APPID"], config["WECHAT_SECRET"], open_base=config["WECHAT_OPEN_BASE"],
                           api_base=config["WECHAT_API_BASE"], timeout=config["WECHAT_TIMEOUT"])
    base = config["SITE_URL"].rstrip("/") + "/dev/wechat"
    return WeChatOAuth(SIM_APPID, SIM_SECRET, open_base=base, api_base=base, timeout=config["WECHAT_TIMEOUT"])


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
    return iri_to_uri(target)  # it may travel in a header (Location, HX-Redirect): ASCII only
