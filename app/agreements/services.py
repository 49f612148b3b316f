"""Which agreement version is in force, what a user still has to accept, and recording consent.

Flushes at most; the view commits.
"""
import os
import secrets
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.agreements.models import Agreement, AgreementVersion, Consent
from app.core.clock import age_on, to_local, today_local
from app.core.domain import DomainError
from app.extensions import db, shared_cache

TEXTS = os.path.join(os.path.dirname(__file__), "texts")
# The three platform agreements, in the order users read them.
PLATFORM = [
    ("service", "微保服务协议", False),
    ("privacy", "微保隐私政策", False),
    ("pi-authorization", "个人信息授权协议", True),
]
ADULT_AGE = 18

# CommonMark without raw HTML: whatever a text contains, only Markdown's own markup reaches the page.
_markdown = MarkdownIt("commonmark", {"html": False})


class AgreementError(DomainError):
    """An acceptance, withdrawal or publication refused."""


def render_markdown(text) -> Markup:
    return Markup(_markdown.render(text))


def get_agreement(kind):
    return db.session.scalar(select(Agreement).where(Agreement.kind == kind))


def effective_version(agreement, today):
    """The version in force today: the latest whose effective date has come."""
    return next((v for v in agreement.versions if v.released_on <= today and v.effective_on <= today), None)


def published_versions(agreement, today):
    """Every version released by today, newest first (upcoming ones included, so they can be read)."""
    return [v for v in agreement.versions if v.released_on <= today]


def upcoming_versions(today):
    """Released but not yet in force: the site banner announces these."""
    stmt = (select(AgreementVersion).join(Agreement)
            .where(AgreementVersion.state == "published", AgreementVersion.released_on <= today,
                   AgreementVersion.effective_on > today)
            .order_by(AgreementVersion.effective_on, Agreement.position))
    return db.session.scalars(stmt).all()


def site_banners():
    """《…》将于 … 生效: agreements released but not yet in force, for the banner on every page. An error
    page must render even with the database down, so a failed lookup shows no banner."""
    today = today_local()
    try:
        return shared_cache.get_or_make(("banners", today.isoformat()), lambda: [
            {"title": v.agreement.title, "kind": v.agreement.kind, "version": v.version,
             "effective_on": v.effective_on} for v in upcoming_versions(today)])
    except SQLAlchemyError:
        db.session.rollback()
        return []


def required_agreements(scope_refs=()):
    """Platform agreements, plus those of the partners or products named by ``scope_refs``
    (("partner", "42"), ("product", "anxin-million-medical"))."""
    stmt = select(Agreement).order_by(Agreement.position, Agreement.id)
    agreements = db.session.scalars(stmt).all()
    return [a for a in agreements if a.scope == "platform" or (a.scope, a.scope_ref) in set(scope_refs)]


@dataclass
class Pending:
    """An agreement the user must accept now; ``previous`` is the version they had accepted, if any."""
    agreement: Agreement
    version: AgreementVersion
    previous: AgreementVersion | None


def latest_consents(user):
    """The user's newest standing consent row for each agreement, by agreement id."""
    rows = db.session.scalars(select(Consent).where(Consent.user_id == user.id)
                              .order_by(Consent.at.desc(), Consent.id.desc())).all()
    latest = {}
    for row in rows:
        if stands(row, user.birth_date):
            latest.setdefault(row.version.agreement_id, row)
    return latest


def is_minor(birth_date, on):
    """Under 18 (周岁) on that day; an unknown birth date is not taken for a minor's."""
    return birth_date is not None and age_on(birth_date, on) < ADULT_AGE


def stands(row, birth_date):
    """Whether a consent row counts: an acceptance given alone by someone who was a minor that day (by
    the birth date we know now: a declared one may later be corrected by an ID number) does not; one a
    guardian approved does."""
    if row.action != "accept" or row.guardian_consent_id is not None:
        return True
    return not is_minor(birth_date, to_local(row.at).date())


def pending_agreements(user, today, scope_refs=()):
    """What stands between the user and an action: each required agreement whose version in force
    the user has not accepted (never, an older version, or withdrawn since)."""
    return _pending(latest_consents(user), today, scope_refs)


def _pending(latest, today, scope_refs=()):
    pending = []
    for agreement in required_agreements(scope_refs):
        version = effective_version(agreement, today)
        if version is None:
            continue
        row = latest.get(agreement.id)
        if row is None or row.action != "accept" or row.version_id != version.id:
            previous = row.version if row is not None and row.action == "accept" else None
            pending.append(Pending(agreement, version, previous))
    return pending


def new_submission_key():
    return secrets.token_urlsafe(16)


def check_acceptance(user, version_ids, submission, today, scope_refs=()):
    """The versions the user is accepting, if the form is right: every pending version ticked (of the
    platform's, and of the partners or products in ``scope_refs``), and nothing that is not in force
    (a tampered id, or one a newer version has replaced)."""
    if not submission:
        raise AgreementError("页面已过期，请刷新后重新同意")
    latest = latest_consents(user)
    pending = {p.version.id for p in _pending(latest, today, scope_refs)}
    in_force = pending | {row.version_id for row in latest.values() if row.action == "accept"}
    if set(version_ids) - in_force:
        raise AgreementError("协议版本已更新，请重新阅读后同意")
    if pending - set(version_ids):
        raise AgreementError("请逐项勾选“我已阅读并同意”", field="agreements")
    return pending


def record_acceptance(user, version_ids, *, submission, today, now, ip, user_agent, channel,
                      guardian_consent_id=None, scope_refs=()):
    """Accept the versions pending for the user (see check_acceptance). The same form submitted twice
    writes its rows once. Returns how many rows were written."""
    written = 0
    for version_id in sorted(check_acceptance(user, version_ids, submission, today, scope_refs)):
        try:
            with db.session.begin_nested():
                db.session.add(Consent(user_id=user.id, version_id=version_id, action="accept", at=now,
                                       ip=ip, user_agent=user_agent[:400], channel=channel,
                                       submission=submission, guardian_consent_id=guardian_consent_id))
            written += 1
        except IntegrityError:
            pass  # a concurrent copy of this submission wrote it
    return written


def withdraw(user, agreement, *, now, ip, user_agent, channel):
    """Withdraw a withdrawable agreement: a row of its own; the gate asks again before the next action."""
    if not agreement.withdrawable:
        raise AgreementError("该协议不能单独撤回")
    row = latest_consents(user).get(agreement.id)
    if row is None or row.action != "accept":
        raise AgreementError("你尚未同意该协议，无需撤回")
    db.session.add(Consent(user_id=user.id, version_id=row.version_id, action="withdraw", at=now, ip=ip,
                           user_agent=user_agent[:400], channel=channel, submission=new_submission_key()))


def user_consents(user_id):
    """The ledger: every row, newest first."""
    return db.session.scalars(select(Consent).where(Consent.user_id == user_id)
                              .order_by(Consent.at.desc(), Consent.id.desc())).all()


def publish(kind, version, released_on, effective_on, summary, body, now):
    """Add a version, published at once: the shell's way (`flask agreements publish`, the demo seed); the back
    office drafts versions for a colleague to approve (versions.py). The platform agreements are created on
    first publish."""
    if effective_on < released_on:
        raise AgreementError("生效日期不能早于发布日期")
    agreement = get_agreement(kind)
    if agreement is None:
        spec = next((s for s in PLATFORM if s[0] == kind), None)
        if spec is None:
            raise AgreementError(f"未知的协议类型：{kind}")
        agreement = Agreement(kind=kind, title=spec[1], withdrawable=spec[2], scope="platform",
                              position=[s[0] for s in PLATFORM].index(kind))
        db.session.add(agreement)
        db.session.flush()
    if db.session.scalar(select(AgreementVersion.id).where(AgreementVersion.agreement_id == agreement.id,
                                                           AgreementVersion.version == version)):
        raise AgreementError(f"《{agreement.title}》已有版本 {version}")
    row = AgreementVersion(agreement=agreement, version=version, released_on=released_on,
                           effective_on=effective_on, summary=summary, body=body, created_at=now, state="published")
    db.session.add(row)
    db.session.flush()
    return row


def seed_platform_agreements(released_on, effective_on, now):
    """The first version of each platform agreement, from texts/; nothing if already published."""
    created = 0
    for kind, _title, _withdrawable in PLATFORM:
        if get_agreement(kind) is None:
            with open(os.path.join(TEXTS, f"{kind}.md"), encoding="utf-8") as f:
                publish(kind, "1.0", released_on, effective_on, "首次发布", f.read(), now)
            created += 1
    return created
