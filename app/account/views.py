from flask import render_template
from flask_login import current_user, login_required

from app.account import bp


@bp.get("/me")
@login_required
def me():
    """My profile, as synced from WeChat at the last login."""
    return render_template("account/me.html", user=current_user)
