"""Buying: the car-insurance quote now; applications, orders and payment as they arrive."""
from flask import Blueprint

bp = Blueprint("purchase", __name__)

from app.purchase import views  # noqa: E402,F401  (routes register on bp)
