"""Flask-Login wiring: who the session names, and where a visitor who must log in is sent."""
from urllib.parse import urlsplit

from flask import request, url_for

from app.auth.accounts import load_user
from app.core.devices import is_wechat
from app.core.htmx import go_to
from app.extensions import login_manager


def send_to_login():
    """To /login with a return path."""
    if request.method == "GET":
        back = request.full_path.rstrip("?")
    else:  # a form posted without a session: come back to the page it was on
        referrer = urlsplit(request.referrer or "")
        back = referrer.path + (f"?{referrer.query}" if referrer.query else "") if referrer.netloc == request.host else "/"
    if is_wechat(request.user_agent.string):  # inside WeChat, WeChat itself says who it is: no QR code
        return go_to(url_for("auth.wechat_login", next=back))
    return go_to(url_for("auth.login", next=back))


def init_app(app):
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(send_to_login)
