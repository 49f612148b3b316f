"""Catalog: categories, insurers, products with plans, coverage, documents and rate tables; browse and price."""
from flask import Blueprint

bp = Blueprint("catalog", __name__, cli_group=None)  # cli.py: `flask trail …`

from app.catalog import admin_rates, admin_views, cli, views  # noqa: E402,F401  (routes and commands register on bp)
