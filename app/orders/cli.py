"""`flask orders close-expired`: the periodic job's work, run by hand; `flask orders settle-refunds`: the
refunds of second payments not yet confirmed, asked again."""
import click

from app.core.clock import db_now
from app.orders import bp, services

bp.cli.help = "Orders and their payment."


@bp.cli.command("close-expired")
def close_expired():
    """Close orders unpaid for 30 minutes (at WeChat Pay first; a periodic job does every minute)."""
    closed = services.close_expired(db_now())
    click.echo(f"Closed {closed} unpaid order(s).")


@bp.cli.command("settle-refunds")
def settle_refunds():
    """Ask again for the refunds of second payments not yet confirmed (a job retries each for about 13 hours)."""
    waiting = services.settle_second_refunds()
    click.echo(f"{waiting} refund(s) of second payments still waiting.")
