"""Third-party vouchers: offers users claim (car wash, dental), and the partner staff's own pages
where they are redeemed."""
from flask import Blueprint

bp = Blueprint("vouchers", __name__, cli_group=None)  # cli.py: `flask partners …`
partner_bp = Blueprint("partner", __name__, url_prefix="/partner")

from app.vouchers import admin_views, cli, partner_views, views  # noqa: E402,F401  (routes and commands register)
