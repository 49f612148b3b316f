"""Personal data as it may appear on screen: masked, never whole."""
import ipaddress


def mask_ip(address: str | None) -> str:
    """203.0.113.45 -> 203.0.113.*; 2001:db8:1:2::5 -> 2001:db8:1:*"""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "未知"
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:3]) + ".*"
    return ":".join(ip.exploded.split(":")[:3]).replace(":0000", ":0") + ":*"
