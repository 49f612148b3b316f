"""`flask orders close-expired`: the periodic job's work, run by hand."""
import click

from app.core.clock import db_now
from app.orders import bp, services

bp.cli.help = "Orders and their payment."


@bp.cli.command("close-expired")
def close_expired():
    """Close orders unpaid for 30 minutes (at WeChat Pay first; a periodic job does every minute)."""
    closed = services.close_expired(db_now())
    click.echo(f"Closed {closed} unpaid order(s).")
