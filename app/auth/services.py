"""Helpers the auth views share: the WeChat client for this configuration, safe return paths, the
desktop's description for the phone."""
from urllib.parse import urlsplit

from flask import current_app
from ua_parser import parse

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
    return target


def describe_browser(user_agent: str):
    """('Chrome 120', 'Windows 10') for the phone to show what it is letting in."""
    result = parse(user_agent or "")
    browser = result.user_agent.family if result.user_agent else "未知浏览器"
    if result.user_agent and result.user_agent.major:
        browser += f" {result.user_agent.major}"
    system = result.os.family if result.os else "未知系统"
    if result.os and result.os.major:
        system += f" {result.os.major}"
    return browser.replace("Other", "未知浏览器"), system.replace("Other", "未知系统")
