"""Probes for load balancers and process managers.

/healthz (liveness) answers while the process can serve requests and touches nothing else, so a database
outage never gets healthy workers restarted. /readyz (readiness) also reaches the database and, when
REDIS_URL is configured, Redis (the rate limits): 503 takes the process out of rotation until they answer.
"""
import redis
from flask import Blueprint, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.core.database import read_once

bp = Blueprint("health", __name__)

HEADERS = {"Cache-Control": "no-store", "Content-Type": "text/plain; charset=utf-8"}
# A probe is itself on a timer: a service that takes longer than this to answer counts as down.
REDIS_TIMEOUT_SECONDS = 2


@bp.get("/healthz")
def healthz():
    return "ok", 200, HEADERS


@bp.get("/readyz")
def readyz():
    down = [name for name, reachable in (("数据库", database_reachable), ("Redis", redis_reachable))
            if not reachable()]
    if down:
        return f"暂不可用：无法连接{'、'.join(down)}", 503, HEADERS
    return "ok", 200, HEADERS


def database_reachable():
    try:
        read_once(select(1))
    except SQLAlchemyError as error:
        current_app.logger.warning("Readiness: database unreachable (%s)", type(error).__name__)
        return False
    return True


def redis_reachable():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return True
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_timeout=REDIS_TIMEOUT_SECONDS) as client:
            return bool(client.ping())
    except redis.RedisError as error:
        current_app.logger.warning("Readiness: Redis unreachable (%s)", type(error).__name__)
        return False
