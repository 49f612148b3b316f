"""`flask trail prune` and `flask prices refresh`: the periodic jobs' work, run by hand."""
import click
from flask.cli import AppGroup

from app.catalog import bp, services, trail
from app.core.clock import db_now
from app.core.database import begin_write
from app.extensions import db

trail_commands = AppGroup("trail", help="The browsing trail (个性化推荐).")
bp.cli.add_command(trail_commands)


@trail_commands.command("prune")
def trail_prune():
    """Delete the browsing trail older than 90 days (a periodic job does daily)."""
    begin_write()
    removed = trail.prune(db_now())
    db.session.commit()
    click.echo(f"Trail rows deleted: {removed}.")


price_commands = AppGroup("prices", help="Products' lowest premium (¥… 起) in listings.")
bp.cli.add_command(price_commands)


@price_commands.command("refresh")
def prices_refresh():
    """Set each product's "¥… 起" from its rate table in force now (a periodic job does every minute)."""
    begin_write()
    changed = services.refresh_prices(db_now())
    db.session.commit()
    click.echo(f"Products repriced: {changed}.")
