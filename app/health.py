"""Liveness for load balancers and process managers: answers while the process can serve requests."""
from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return "ok", 200, {"Cache-Control": "no-store", "Content-Type": "text/plain; charset=utf-8"}
