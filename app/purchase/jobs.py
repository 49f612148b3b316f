"""Periodic: 断点续保 reminders, and the purge of breakpoints nobody came back to."""
from app.core.clock import db_now
from app.core.database import begin_write
from app.extensions import db
from app.jobs import crontab, periodic
from app.purchase import reminders


@periodic(crontab(minute="*/5"))
def remind_unfinished_applications():
    """Every five minutes (send_reminders commits each claim; the messages are jobs of their own)."""
    return reminders.send_reminders(db_now())


@periodic(crontab(minute="30", hour="19"))
def purge_breakpoints():
    """Daily at 03:30 in Shanghai (19:30 UTC): drafts idle for more than 30 days."""
    begin_write()
    removed = reminders.purge(db_now())
    db.session.commit()
    return removed
