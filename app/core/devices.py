"""What a User-Agent says about the device: shown to the phone before it confirms a login, and kept
with each consent as its channel."""
from ua_parser import parse

PHONE_SYSTEMS = ("Android", "iOS", "HarmonyOS")


def describe_browser(user_agent: str):
    """('Chrome 120', 'Windows 10')."""
    result = parse(user_agent or "")
    browser = result.user_agent.family if result.user_agent else "未知浏览器"
    if result.user_agent and result.user_agent.major:
        browser += f" {result.user_agent.major}"
    system = result.os.family if result.os else "未知系统"
    if result.os and result.os.major:
        system += f" {result.os.major}"
    return browser.replace("Other", "未知浏览器"), system.replace("Other", "未知系统")


def is_wechat(user_agent: str) -> bool:
    """A page opened inside WeChat (its built-in browser says MicroMessenger), on a phone or WeChat for PC."""
    return "MicroMessenger" in (user_agent or "")


def channel_of(user_agent: str) -> str:
    """'phone' for a phone's browser (WeChat's included), else 'desktop'."""
    result = parse(user_agent or "")
    return "phone" if result.os and result.os.family in PHONE_SYSTEMS else "desktop"
