"""A real consumer: `flask jobs consume` in a process of its own, on the migrated test database, runs what
this process queues, through a SQLite jobs file and through Redis (TEST_REDIS_URL), and stops on Ctrl-C."""
import os
import secrets
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import ROOT, create_app
from app.auth.models import User
from app.auth.simulator import SIM_APPID, SIM_SECRET
from app.catalog.models import BrowsingEvent, Product
from app.core.clock import db_now
from app.extensions import db
from app.notifications import APPLICATION_REMINDER, notify
from app.notifications.models import Notification
from tests.support.config import TEST_CONFIG

WAIT_SECONDS = 60


def wait_for_jobs(consumer, output, *names):
    """Read the consumer's log as it writes it until each job named has been executed (huey says so). A
    watchdog ends a consumer that takes longer than WAIT_SECONDS, and then the log ends too: bounded, with no
    timer in the test."""
    missing = set(names)
    watchdog = threading.Timer(WAIT_SECONDS, consumer.kill)
    watchdog.start()
    try:
        for raw in iter(consumer.stdout.readline, b""):
            line = raw.decode(errors="replace")
            output.append(line)
            if " executed in " in line:
                missing -= {name for name in missing if name in line}
            if not missing:
                return
    finally:
        watchdog.cancel()
    raise AssertionError(f"the consumer ended ({consumer.poll()}) before running {sorted(missing)}")


@pytest.fixture(params=["sqlite", "redis"])
def queue_settings(request, tmp_path):
    """Where the site queues and the consumer takes: a SQLite file, or Redis; a queue of the test's own."""
    settings = {"JOBS_NAME": f"test-{secrets.token_hex(4)}"}
    if request.param == "redis":
        if not os.environ.get("TEST_REDIS_URL"):
            pytest.skip("TEST_REDIS_URL is not set (tests/run.sh starts a redis-server)")
        settings["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    else:
        settings["JOBS_FILE"] = str(tmp_path / "jobs.db")
    return settings


def test_a_consumer_process_runs_what_the_site_queues(database_url, fake_wechat, reachable, queue_settings,
                                                      tmp_path):
    wechat_settings = {"WECHAT_APPID": SIM_APPID, "WECHAT_SECRET": SIM_SECRET,
                       "WECHAT_API_BASE": fake_wechat.base, "WECHAT_OPEN_BASE": fake_wechat.base}
    site = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "JOBS_IMMEDIATE": False,
                       **queue_settings, **wechat_settings})
    user = reachable()
    with site.app_context():
        # Queued by the site: a message (a job queued when its record commits) and a periodic job by hand.
        notification = notify(db.session.get(User, user.id), APPLICATION_REMINDER, url="https://example/resume",
                              data={"first": "consumer"})
        product_id = db.session.scalar(select(Product.id).limit(1))
        old = BrowsingEvent(user_id=user.id, product_id=product_id, kind="view", at=db_now() - timedelta(days=400))
        db.session.add(old)
        db.session.commit()
        notification_id, old_id = notification.id, old.id
        from app.catalog import jobs as catalog_jobs
        catalog_jobs.prune_trail.enqueue()
        assert len(site.extensions["jobs"]) == 2  # waiting in the queue, nothing ran here

    env = {**os.environ, **{key: str(value) for key, value in {**queue_settings, **wechat_settings}.items()},
           "FLASK_APP": "wsgi.py", "SECRET_KEY": TEST_CONFIG["SECRET_KEY"], "DATA_KEY": TEST_CONFIG["DATA_KEY"],
           "DATABASE_URL": database_url}
    if "REDIS_URL" not in queue_settings:
        env.pop("REDIS_URL", None)  # the SQLite file, even where the environment names a Redis
    consumer = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "flask"), "jobs", "consume",
                                 "--no-periodic"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = []
    try:
        wait_for_jobs(consumer, output, "app.notifications.jobs.send", "app.catalog.jobs.prune_trail")
        with site.app_context():
            assert db.session.get(Notification, notification_id).status == "sent"
            assert db.session.get(BrowsingEvent, old_id) is None  # the trail pruned
        assert [m for m in fake_wechat.state.messages if m["touser"] == user.openid] == [
            {"touser": user.openid, "template_id": "unfinished-application-reminder",
             "url": "https://example/resume", "data": {"first": {"value": "consumer"}}}]
        consumer.send_signal(signal.SIGINT)  # Ctrl-C: finish what is running, then stop
        assert consumer.wait(timeout=WAIT_SECONDS) == 0
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
        output.append(consumer.stdout.read().decode(errors="replace"))
        consumer.stdout.close()
        site.extensions["jobs"].flush()
        with site.app_context():
            db.engine.dispose()
    assert user.openid not in "".join(output)
