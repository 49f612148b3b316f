"""Periodic: the browsing trail is kept 90 days."""
from app.catalog import services, trail
from app.core.clock import db_now
from app.core.database import begin_write
from app.extensions import db
from app.jobs import crontab, periodic


@periodic(crontab(minute="0", hour="19"))
def prune_trail():
    """Daily at 03:00 in Shanghai (19:00 UTC)."""
    begin_write()
    removed = trail.prune(db_now())
    db.session.commit()
    return removed


@periodic(crontab(minute="*"))
def refresh_prices():
    """Every minute: a rate table approved to take effect later changes its product's "¥… 起" then."""
    begin_write()
    changed = services.refresh_prices(db_now())
    db.session.commit()
    return changed
