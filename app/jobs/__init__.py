"""Background jobs on huey: what a request should not wait for, and what used to need cron.

A capability declares its jobs in its own ``jobs.py`` (found and imported at app start, so every process
can queue them) with ``@job()`` or ``@periodic(crontab(...))``; a job is queued with ``.enqueue(...)``,
``.enqueue_at(when, ...)`` or, from inside a unit of work, ``.enqueue_after_commit(...)`` (sent when the
session commits, dropped when it rolls back: a job never sees a row its caller had not committed).

Each app gets one huey queue (``app.extensions["jobs"]``): its storage is a SQLite file
(``instance/jobs.db``, ``JOBS_FILE``) by default, or Redis when ``REDIS_URL`` is set, so consumers can run on
any number of hosts. ``flask jobs consume`` (cli.py) runs the workers and the schedule. A job runs in a
fresh app context of the app that queued it, with its own database session, never inside a request's
unfinished transaction. Tests set ``JOBS_IMMEDIATE``: jobs run at once in the caller's thread, jobs queued
for later wait until ``run_due()`` is called after the test moved the clock.

Periodic jobs hold a huey lock while they run, so two consumers never run the same one at once; what they
change is also guarded by conditional UPDATEs, so a run that slips past the lock (a consumer restarted
while another held it: locks left by a killed consumer are cleared at start) changes nothing twice.
"""
import importlib
import importlib.util
import os
import pkgutil
from datetime import UTC

from flask import current_app
from huey import Huey, crontab  # noqa: F401  (crontab: for the capabilities' schedules)
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

_declared = {}  # name → Job, filled as the capabilities' jobs modules are imported
_AFTER_COMMIT = "jobs_after_commit"


class Job:
    """A declared job; ``periodic`` is its crontab, or None for one that runs when queued."""

    def __init__(self, func, periodic=None):
        self.func, self.periodic = func, periodic
        self.name = f"{func.__module__}.{func.__name__}"
        self.__doc__ = func.__doc__

    def enqueue(self, *args, **kwargs):
        """Queue it now (in immediate mode: run it now). Returns huey's Result handle."""
        return _task(self)(*args, **kwargs)

    def enqueue_at(self, when, *args, **kwargs):
        """Queue it to run at ``when`` (a naive UTC datetime, as db_now() gives)."""
        return _task(self).schedule(args, kwargs, eta=when.replace(tzinfo=UTC))

    def enqueue_after_commit(self, *args, **kwargs):
        """Queue it when the current database transaction commits; nothing if it rolls back."""
        from app.extensions import db
        db.session().info.setdefault(_AFTER_COMMIT, []).append((self, args, kwargs))


def job():
    """Declare a job: ``@job()`` on a function of the capability's jobs.py."""
    def declare(func):
        return _declare(Job(func))
    return declare


def periodic(schedule):
    """Declare a periodic job: ``@periodic(crontab(minute="*/5"))``. Crontabs are in UTC."""
    def declare(func):
        return _declare(Job(func, periodic=schedule))
    return declare


def _declare(declared):
    if declared.name in _declared:
        raise ValueError(f"Job {declared.name} is declared twice")
    _declared[declared.name] = declared
    return declared


def _task(declared):
    return current_app.extensions["jobs"].wrappers[declared.name]


def periodic_jobs():
    return [declared for declared in _declared.values() if declared.periodic is not None]


class Queue(Huey):
    """huey for one Flask app: the storage class is SqliteHuey's or RedisHuey's; its time is the app's
    clock (tests move it), and its jobs run in that app."""

    def __init__(self, app, **kwargs):
        self.app = app
        self.wrappers = {}
        super().__init__(**kwargs)

    def _get_timestamp(self):
        clock = self.app.config.get("CLOCK")
        if clock is None:
            return super()._get_timestamp()
        return clock().astimezone(UTC).replace(tzinfo=None)

    def register(self, declared):
        app, lock = self.app, self.lock_task(declared.name) if declared.periodic is not None else None

        def run(*args, **kwargs):
            with app.app_context():  # fresh: its own session, not the caller's transaction
                if lock is None:
                    return declared.func(*args, **kwargs)
                with lock:
                    return declared.func(*args, **kwargs)
        run.__module__ = declared.func.__module__  # huey names a task module.function
        name = declared.func.__name__
        if declared.periodic is None:
            self.wrappers[declared.name] = self.task(name=name)(run)
        else:
            self.wrappers[declared.name] = self.periodic_task(declared.periodic, name=name)(run)


def make_queue(app):
    config = app.config
    options = {"name": config["JOBS_NAME"], "utc": True}
    if config["JOBS_IMMEDIATE"]:
        return Queue(app, immediate=True, **options)
    if config["REDIS_URL"]:
        return Queue(app, storage_class=RedisStorage, url=config["REDIS_URL"], **options)
    path = config["JOBS_FILE"] or os.path.join(app.instance_path, "jobs.db")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return Queue(app, storage_class=SqliteStorage, filename=path, **options)


def run_due():
    """Immediate mode's scheduler: run the jobs queued for a time the app's clock has reached (tests move
    the clock, then call this; the consumer's scheduler does it for real). Returns how many ran."""
    queue = current_app.extensions["jobs"]
    due = queue.read_schedule()
    for task in due:
        queue.enqueue(task)
    return len(due)


def _discover():
    """Import every capability's jobs.py, so their declarations exist in web processes too."""
    import app as package
    for module in pkgutil.iter_modules(package.__path__):
        name = f"app.{module.name}.jobs"
        if module.ispkg and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def _send_after_commit(session):
    for declared, args, kwargs in session.info.pop(_AFTER_COMMIT, ()):
        try:
            declared.enqueue(*args, **kwargs)
        except Exception:  # the queue is down: what was committed stands; say so rather than fail the caller
            current_app.logger.exception("Job %s could not be queued", declared.name)


def _drop_after_rollback(session):
    session.info.pop(_AFTER_COMMIT, None)


def init_app(app):
    _discover()
    queue = make_queue(app)
    for declared in _declared.values():
        queue.register(declared)
    app.extensions["jobs"] = queue
    if not event.contains(Session, "after_commit", _send_after_commit):
        event.listen(Session, "after_commit", _send_after_commit)
        event.listen(Session, "after_rollback", _drop_after_rollback)
    from app.jobs import cli
    app.cli.add_command(cli.jobs)
