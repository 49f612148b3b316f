"""Buying: the car-insurance quote now; applications, orders and payment as they arrive."""
from flask import Blueprint

bp = Blueprint("purchase", __name__, cli_group=None)  # cli.py: `flask reminders …`, `flask applications …`

from app.purchase import cli, views  # noqa: E402,F401  (routes and commands register on bp)
