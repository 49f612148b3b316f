"""Orders, WeChat Pay and e-policies: a confirmed application becomes an order, the order is paid by
scanning a QR code, inside WeChat (JSAPI) or from a phone's browser (H5), and the payment issues the policy."""
from flask import Blueprint

bp = Blueprint("orders", __name__)

from app.orders import cli, views  # noqa: E402,F401  (routes and commands register on bp)
