"""`flask trail prune`: the periodic job's work, run by hand."""
import click
from flask.cli import AppGroup

from app.catalog import bp, trail
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
