"""Periodic: claims past the deadline that applies are flagged (the queue puts them first); payouts in flight
are asked about at WeChat Pay; documents past their keeping time are deleted. Each also runs by hand
(cli.py: `flask claims …`)."""
from app.claims import payout, retention, services
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


@periodic(crontab(minute="*/5"))
def refresh_payouts():
    """Every 5 minutes: a transfer in progress is queried (its success pays the claim, its failure is shown to the
    claims team); one left pending by an error or a timeout is sent again under its own out_batch_no."""
    return payout.refresh_all(db_now())


@periodic(crontab(minute="45", hour="19"))
def purge_claim_documents():
    """Daily at 03:45 in Shanghai: the documents of finished claims past their keeping time."""
    begin_write()
    removed = retention.purge(db_now())
    db.session.commit()
    return removed
