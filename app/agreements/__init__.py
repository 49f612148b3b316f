"""Agreements: versioned texts, the acceptance gate, the consent ledger."""
from flask import Blueprint

bp = Blueprint("agreements", __name__)

from app.agreements import admin_views, cli, views  # noqa: E402,F401  (admin_views: /admin's routes)


def init_app(app):
    from app.agreements import gate, services
    app.register_blueprint(bp)
    app.before_request(gate.check_after_login)
    app.add_template_global(services.site_banners)
