"""Notifications: every message to a user goes through ``notify(user, template, url=..., data=...)``.

WeChat template messages today (wechat.py). Each message is recorded (models.py: user id, template,
status, attempts, times; never its text) and sent by a job (jobs.py), retried with a growing delay and
marked failed after the last attempt. The user's switches are checked here and nowhere else, when the
message is queued and again when it is sent: a promotional template needs 推广信息 on, a template may
name a switch of its own (templates.py). Callers never talk to WeChat themselves.
"""
from app.notifications.services import notify  # noqa: F401
from app.notifications.templates import APPLICATION_REMINDER, PROMOTION  # noqa: F401
