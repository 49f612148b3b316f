"""Catalog: categories, insurers, products with plans, coverage, documents and rate tables; browse and price."""
from flask import Blueprint

bp = Blueprint("catalog", __name__)

from app.catalog import views  # noqa: E402,F401  (routes register on bp)
