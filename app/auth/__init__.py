"""Login by scanning a QR code with WeChat, the QR bridge every desktop-to-phone handoff uses, WeChat OAuth."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import views  # noqa: E402,F401  (routes register on bp)
