"""Buying: the application (投保单) step by step, and the car-insurance quote."""
from flask import Blueprint

bp = Blueprint("purchase", __name__, cli_group=None)  # cli.py: `flask reminders …`, `flask applications …`

from app.purchase import cli, views  # noqa: E402,F401  (routes and commands register on bp)
