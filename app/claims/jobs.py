"""Periodic: claims past the deadline that applies are flagged (the queue puts them first)."""
from app.claims import services
from app.core.clock import db_now
from app.core.database import begin_write
from app.extensions import db
from app.jobs import crontab, periodic


@periodic(crontab(minute="*/10"))
def flag_overdue_claims():
    """Every 10 minutes: a decision not made in its 30 days (less the wait for supplements), a payment not made
    in its 10 days."""
    begin_write()
    flagged = services.flag_overdue(db_now())
    db.session.commit()
    return flagged


from app.claims import payout_jobs  # noqa: E402,F401  (the payouts' job, found with the claims')
