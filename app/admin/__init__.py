"""The back office (运营后台) at /admin: staff accounts of their own (argon2 password, TOTP, recovery codes,
lockout, sessions that end everywhere at logout, an idle timeout), roles of permissions checked on every
view (access.py), the append-only audit log every action writes (audit.py), and support's lookups
(support.py). Each capability's back-office screens live in its own package and use access.requires,
access.section and audit.record."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin", cli_group=None)  # cli.py: `flask admin …`


def init_app(app):
    from app.admin import access, auth
    app.register_blueprint(bp)
    app.before_request(access.guard)
    app.add_template_global(access.sections_for, "admin_sections")
    app.add_template_global(auth.current_staff, "admin_staff")


from app.admin import audit_views, cli, dashboard_views, mobile_index, staff_views, support_views, views  # noqa: E402,F401
