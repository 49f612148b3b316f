"""`flask reminders send` and `flask applications purge`: the periodic jobs' work, run by hand."""
import click
from flask.cli import AppGroup

from app.core.clock import db_now
from app.core.database import begin_write
from app.extensions import db
from app.purchase import bp, reminders

reminder_commands = AppGroup("reminders", help="断点续保 reminders.")
application_commands = AppGroup("applications", help="Unfinished applications (breakpoints).")
bp.cli.add_command(reminder_commands)
bp.cli.add_command(application_commands)


@reminder_commands.command("send")
def reminders_send():
    """Remind once of applications idle for 30 minutes to 7 days (a periodic job does every 5 minutes)."""
    queued = reminders.send_reminders(db_now())
    click.echo(f"Reminders queued: {queued}.")


@application_commands.command("purge")
def applications_purge():
    """Delete unfinished applications idle for more than 30 days, personal data and all."""
    begin_write()
    removed = reminders.purge(db_now())
    db.session.commit()
    click.echo(f"Breakpoints deleted: {removed}.")
