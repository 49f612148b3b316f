"""Online claims (线上理赔): the policyholder reports a claim on a policy, uploads its documents (from the
desktop, or the phone through the QR bridge), sees what is missing before sending, follows the timeline and
gets paid; the claims team (back office, 理赔) works the queue by deadline. The platform takes the claim and
forwards it; the insurer decides, within the law's clock (保险法 第22–23条: clock.py)."""
from flask import Blueprint

bp = Blueprint("claims", __name__, cli_group=None)


def init_app(app):
    """The routes (the back office's too, before the back office's blueprint is registered). Imported here,
    not with the package: other capabilities read claims' models (我的数据) without loading its views."""
    from app.claims import admin_views, cli, views  # noqa: F401
    app.register_blueprint(bp)


from app.claims import models  # noqa: E402,F401  (the tables)
