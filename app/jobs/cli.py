"""`flask jobs consume`: huey's consumer in this process (worker threads plus the scheduler that queues
the periodic jobs). `make run` starts one beside the web server; production runs one or more anywhere
that reaches the database and the queue."""
import logging

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.logs import RedactingFilter

jobs = AppGroup("jobs", help="Background jobs and the schedule.")


@jobs.command("consume")
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Also queue the periodic jobs on their schedule (any number of consumers may).")
def consume(workers, periodic):
    """Run queued jobs until Ctrl-C (SIGINT: finish what is running) or SIGTERM."""
    from app.jobs import periodic_jobs
    queue = current_app.extensions["jobs"]
    if queue.immediate:
        raise click.UsageError("JOBS_IMMEDIATE is set: jobs run where they are queued, there is nothing to consume.")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("huey")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # A consumer killed while it ran a periodic job left its lock behind: clear them, or that job would
    # never run again. Should another consumer be running one right now, the job's conditional UPDATEs
    # still make a second run change nothing twice.
    queue.flush_locks(*(declared.name for declared in periodic_jobs()))
    click.echo(f"Consuming queue {queue.name!r} with {workers} worker(s); periodic jobs "
               f"{'on' if periodic else 'off'}.")
    queue.create_consumer(workers=workers, worker_type="thread", periodic=periodic).run()
