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


def mask_id_number(value: str | None) -> str:
    """110101199003071234 -> 110***********1234"""
    if not value:
        return ""
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_name(value: str | None) -> str:
    """张三 -> 张*; 欧阳娜娜 -> 欧**娜"""
    if not value:
        return ""
    if len(value) <= 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_phone(value: str | None) -> str:
    """13800138000 -> 138****8000"""
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else "*" * len(value)
