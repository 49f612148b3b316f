"""The account centre: profile and contact data, privacy switches, recent logins, my data and 注销."""
from flask import Blueprint

bp = Blueprint("account", __name__, cli_group=None)  # cli.py: `flask promotions …`

from app.account import cli, views  # noqa: E402,F401  (routes and commands register on bp)


@bp.after_request
def private(response):
    """Account pages are one person's: never kept by a shared cache."""
    response.headers["Cache-Control"] = "private, no-store"
    return response
