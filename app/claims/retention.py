"""How long a claim's documents are kept: like the policy file they belong to (保险代理人监管规定: 业务档案 are kept
from the end of the insurance contract, at least 5 years for a contract of one year or less, 10 years for a
longer one), and never while the claim is still being handled. A daily job deletes what has passed its time;
deleting the account (注销) follows the same rule (only an unsent draft goes at once)."""
from datetime import date

from sqlalchemy import delete, select

from app.claims.models import Claim, ClaimDocument, ClaimEvent
from app.extensions import db
from app.orders.models import Policy

FINISHED = ("paid", "withdrawn", "closed")
SHORT_YEARS, LONG_YEARS = 5, 10


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def kept_until(policy) -> date:
    """The last day a claim on ``policy`` keeps its documents (once it is finished)."""
    years = SHORT_YEARS if (policy.ends_on - policy.starts_on).days <= 366 else LONG_YEARS
    return _years_after(policy.ends_on, years)


def finished(claim) -> bool:
    """Nothing more will happen to it: paid, withdrawn, or decided without money owed (a refusal may still be
    appealed, but not once its documents are due to go, years later)."""
    return claim.status in ("paid", "withdrawn") or (claim.status == "closed" and claim.decision == "rejected")


def purge(now):
    """Delete the documents of finished claims whose time has passed (the claim's record stays, with a line in
    its timeline). Returns how many documents went."""
    today = now.date()
    candidates = db.session.scalars(
        select(Claim).join(Policy, Policy.id == Claim.policy_id)
        .where(Claim.status.in_(FINISHED), Policy.ends_on < _years_after(today, -SHORT_YEARS),
               Claim.id.in_(select(ClaimDocument.claim_id)))).all()
    removed = 0
    for claim in candidates:
        if not finished(claim) or kept_until(claim.policy) >= today:
            continue
        removed += db.session.execute(delete(ClaimDocument).where(ClaimDocument.claim_id == claim.id)).rowcount
        db.session.add(ClaimEvent(claim_id=claim.id, at=now, status=claim.status, actor="system",
                                  note="理赔材料已按规定的保存期限删除"))
    return removed
