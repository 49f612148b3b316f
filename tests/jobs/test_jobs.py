"""The job queue in one process: each capability's jobs are on the app, periodic ones on the schedule the
README gives; a job runs in a fresh app context (never committing its caller's work); a periodic job
already running is not run again beside it, and two runs at once still remind each application once."""
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.auth.models import User
from app.catalog.models import BrowsingEvent, Product
from app.core.clock import db_now
from app.extensions import db
from app.jobs import periodic_jobs
from app.notifications.models import Notification
from app.purchase import jobs as purchase_jobs
from app.purchase.models import Application
from app.purchase.reminders import send_reminders
from tests.support.concurrency import at_once

PERIODIC = {
    "app.orders.jobs.close_unpaid_orders", "app.purchase.jobs.remind_unfinished_applications",
    "app.purchase.jobs.purge_breakpoints", "app.catalog.jobs.prune_trail", "app.catalog.jobs.refresh_prices",
    "app.claims.jobs.refresh_payouts", "app.claims.jobs.flag_overdue_claims", "app.claims.jobs.purge_claim_documents",
    "app.assistant.jobs.warm_index",
}


def test_every_capabilitys_jobs_are_declared_on_the_app(app):
    queue = app.extensions["jobs"]
    assert {declared.name for declared in periodic_jobs()} == PERIODIC
    assert PERIODIC | {"app.notifications.jobs.send"} <= queue.wrappers.keys()


def test_the_schedule_is_the_one_the_readme_gives(app):
    queue = app.extensions["jobs"]

    def due_at(hour, minute):  # UTC, as the queue keeps time
        return {task.name for task in queue.read_periodic(datetime(2026, 11, 25, hour, minute))}

    every_minute = {"close_unpaid_orders", "refresh_prices"}
    every_five = every_minute | {"remind_unfinished_applications", "refresh_payouts"}
    assert due_at(10, 1) == every_minute
    assert due_at(10, 5) == every_five
    every_ten = every_five | {"flag_overdue_claims", "warm_index"}
    assert due_at(10, 10) == every_ten
    assert due_at(19, 0) == every_ten | {"prune_trail"}  # 03:00 CST
    assert due_at(19, 30) == every_ten | {"purge_breakpoints"}
    assert due_at(19, 45) == every_five | {"purge_claim_documents"}


def test_the_manual_commands_keep_their_names(app):
    for group, command in (("reminders", "send"), ("applications", "purge"), ("orders", "close-expired"),
                           ("trail", "prune"), ("prices", "refresh"), ("claims", "flag-overdue"),
                           ("claims", "refresh-payouts"), ("claims", "purge-documents"), ("promotions", "send"), ("partners", "add-staff"),
                           ("jobs", "consume")):
        result = app.test_cli_runner().invoke(args=[group, command, "--help"])
        assert result.exit_code == 0, (group, command, result.output)
    assert app.test_cli_runner().invoke(args=["trail", "prune"]).output.startswith("Trail rows deleted:")


def test_a_job_runs_in_a_fresh_app_context_and_never_commits_its_callers_work(app, member, clock):
    user = member()
    with app.app_context():
        product_id = db.session.scalar(select(Product.id).limit(1))
        db.session.add(BrowsingEvent(user_id=user.id, product_id=product_id, kind="view",
                                     at=db_now() - timedelta(days=91)))
        db.session.commit()
        # Unfinished work of the caller (a request, say), still pending when the job runs.
        db.session.add(BrowsingEvent(user_id=user.id, product_id=product_id, kind="view", at=db_now()))
        from app.catalog import jobs as catalog_jobs
        catalog_jobs.prune_trail.enqueue()
        db.session.rollback()
        kept = db.session.scalars(select(BrowsingEvent).where(BrowsingEvent.user_id == user.id)).all()
    assert kept == []  # the job pruned the old row; the caller's pending one was never committed


def draft(app, reachable, clock):
    """An application of a WeChat user left at step 2, due for its reminder 31 minutes later."""
    user = reachable()
    with app.app_context():
        product_id = db.session.scalar(select(Product.id).where(Product.slug == "anxin-million-medical"))
        application = Application(number=f"WB{secrets.randbelow(10**12):012d}", user_id=user.id,
                                  product_id=product_id, plan_code="basic", step=2, created_at=db_now(),
                                  updated_at=db_now())
        db.session.add(application)
        db.session.commit()
    clock.advance(minutes=31)
    return user


def notifications_of(app, user):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == user.id))


def test_two_reminder_runs_at_once_remind_each_application_once(app, wechat, reachable, clock):
    user = draft(app, reachable, clock)
    errors = []

    def consumer(i):
        try:
            with app.app_context():
                send_reminders(db_now())  # the job's work, without the job's lock: the UPDATE decides
        except Exception as error:  # reported below
            errors.append(error)

    at_once(2, consumer)
    assert errors == []
    assert [m["touser"] for m in wechat.state.messages].count(user.openid) == 1
    assert notifications_of(app, user) == 1


def test_a_periodic_job_running_elsewhere_is_not_run_again_beside_it(app, wechat, reachable, clock):
    user = draft(app, reachable, clock)
    job = purchase_jobs.remind_unfinished_applications
    with app.app_context():
        with app.extensions["jobs"].lock_task(job.name):  # another consumer is running it
            job.enqueue()
        assert notifications_of(app, user) == 0
        job.enqueue()
        job.enqueue()  # and again: the application is reminded already
    assert [m["touser"] for m in wechat.state.messages].count(user.openid) == 1
    with app.app_context():
        assert db.session.get(User, user.id).reminders_enabled
