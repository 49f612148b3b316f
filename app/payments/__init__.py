"""Payments: the WeChat Pay client for this configuration, the merchant's or (development) the simulator's."""
from flask import current_app

from app.core.clock import utcnow
from app.payments.wechatpay import NotificationRefused, PayError, Settings, WeChatPayClient

__all__ = ["NotificationRefused", "PayError", "pay_client", "simulated"]


def simulated():
    return not current_app.config["WECHATPAY_MCHID"]


def _settings():
    config = current_app.config
    site = config["SITE_URL"].rstrip("/")
    notify_url = config["WECHATPAY_NOTIFY_URL"] or site + "/pay/wechat/notify"
    if not simulated():
        return Settings(mchid=config["WECHATPAY_MCHID"], appid=config["WECHATPAY_APPID"],
                        private_key=config["WECHATPAY_PRIVATE_KEY"], cert_serial_no=config["WECHATPAY_CERT_SERIAL_NO"],
                        apiv3_key=config["WECHATPAY_APIV3_KEY"], public_key=config["WECHATPAY_PUBLIC_KEY"],
                        public_key_id=config["WECHATPAY_PUBLIC_KEY_ID"], base_url=config["WECHATPAY_BASE"],
                        notify_url=notify_url, timeout=config["WECHATPAY_TIMEOUT"])
    simulator = current_app.extensions["wechatpay_simulator"]
    keys = simulator.keys
    return Settings(mchid=keys.mchid, appid=keys.appid, private_key=keys.merchant_key,
                    cert_serial_no=keys.cert_serial_no, apiv3_key=keys.apiv3_key, public_key=simulator.platform_public,
                    public_key_id=keys.public_key_id, base_url=site + "/dev/wechatpay", notify_url=notify_url,
                    timeout=config["WECHATPAY_TIMEOUT"])


def pay_client() -> WeChatPayClient:
    """One client per configuration (loading the keys is not free)."""
    settings = _settings()
    clients = current_app.extensions.setdefault("wechatpay_clients", {})
    if settings not in clients:
        clients[settings] = WeChatPayClient(settings, clock=utcnow)
    return clients[settings]
