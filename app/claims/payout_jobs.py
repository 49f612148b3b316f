"""Periodic: the transfers of claims' payouts to WeChat balances not yet confirmed, asked about at WeChat Pay."""
from app.claims import payout
from app.core.clock import db_now
from app.jobs import crontab, periodic


@periodic(crontab(minute="*/5"))
def refresh_payouts():
    """Every 5 minutes: a transfer in progress is queried (its success pays the claim, its failure is shown to the
    claims team); one left pending by an error or a timeout is sent again under its own out_batch_no."""
    return payout.refresh_all(db_now())
