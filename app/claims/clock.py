"""The law's clock (保险法 第22–23条), as the claimant is shown it and the claims team works to it:

- the insurer decides within 30 days of receiving the claim; the time the claim waits for the claimant's
  supplements does not count (the insurer must ask once for everything missing);
- once it agrees to pay, it pays within 10 days;
- a refusal is notified, with its reasons, within 3 days of the decision.

The due times are stored on the claim (decision_due_at moves on by the time spent waiting, when the claimant
supplies what was asked), so the queue sorts by them in SQL.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

DECISION_DAYS = 30
PAYOUT_DAYS = 10
REFUSAL_NOTICE_DAYS = 3


@dataclass(frozen=True)
class Deadline:
    label: str  # what is due
    due_at: datetime | None  # None: paused (the claimant's turn)
    overdue: bool

    def days_left(self, now) -> int | None:
        if self.due_at is None:
            return None
        return (self.due_at - now).days


def submitted(claim, now):
    claim.submitted_at = now
    claim.decision_due_at = now + timedelta(days=DECISION_DAYS)
    claim.paused_since = None


def pause(claim, now):
    claim.paused_since = now


def resume(claim, now):
    """The claimant supplied what was asked: the decision is due later by the time spent waiting."""
    if claim.paused_since is not None:
        claim.decision_due_at += now - claim.paused_since
        claim.paused_since = None


def decided(claim, now):
    claim.decided_at = now
    claim.payout_due_at = now + timedelta(days=PAYOUT_DAYS) if claim.decision in ("approved", "partial") else None


def reopened(claim, now):
    """An appeal (复核) is a new review: a new 30 days."""
    claim.decision_due_at = now + timedelta(days=DECISION_DAYS)
    claim.paused_since = None
    claim.payout_due_at = None


def deadline(claim, now) -> Deadline | None:
    """The deadline that applies now, or None (a draft, a withdrawn or a paid claim, a refusal notified)."""
    if claim.status in ("submitted", "reviewing") and claim.decision_due_at is not None:
        return Deadline("保险公司作出核定", claim.decision_due_at, claim.decision_due_at < now)
    if claim.status == "awaiting_supplement":
        return Deadline("补齐材料后恢复计时", None, False)
    if claim.status == "closed" and claim.decision in ("approved", "partial") and claim.payout_due_at is not None:
        return Deadline("赔款到账", claim.payout_due_at, claim.payout_due_at < now)
    return None


def remaining_when_paused(claim):
    """While waiting for supplements: how much of the 30 days is left (it resumes from there)."""
    if claim.paused_since is None or claim.decision_due_at is None:
        return None
    return claim.decision_due_at - claim.paused_since
