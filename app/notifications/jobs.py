"""The send job: every notification goes out through it, and a failed one is queued again for later."""
from app.jobs import job
from app.notifications import services


@job()
def send(notification_id, url, data):
    retry_at = services.deliver(notification_id, url, data)
    if retry_at is not None:
        send.enqueue_at(retry_at, notification_id, url, data)
