"""New versions of an agreement as 合规 writes them in the back office: a draft (version label, release and
effective dates, what changed, the text in Markdown), edited, submitted for approval, then approved and
published by a colleague who wrote none of it (maker–checker, core/review.py) or sent back with a reason.
Users only ever see published versions (``Agreement.versions``): from the release date they can read it, from
the effective date the gate asks them to accept it again. `flask agreements publish` (services.publish) stays
the shell's way, publishing at once.

Each step writes its audit row; of the text only its length and digest are kept. Flushes at most; the view
commits.
"""
import hashlib
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.admin import audit
from app.admin.models import AuditEvent
from app.agreements.models import SCOPES, VERSION_STATES, Agreement, AgreementVersion
from app.agreements.services import AgreementError, effective_version
from app.core.review import ReviewRefused, check_reviewer
from app.extensions import db

OBJECT_TYPE = "agreement_version"
WRITTEN = ("agreement_version.drafted", "agreement_version.edited")

audit.register(
    actions={"agreement_version.drafted": "起草协议新版本", "agreement_version.edited": "修改协议草稿",
             "agreement_version.submitted": "提交协议版本审核", "agreement_version.approved": "审核通过并发布协议版本",
             "agreement_version.returned": "退回协议版本", "agreement_version.published": "以命令行发布协议版本"},
    object_types={OBJECT_TYPE: "协议版本"},
    field_labels={"agreement": "协议", "version": "版本号", "released_on": "发布日期", "effective_on": "生效日期",
                  "summary": "更新内容", "state": "状态", "body_length": "正文字数", "body_digest": "正文校验码"},
    value_labels={"state": VERSION_STATES})

# How a version stands today: its state, and for a published one whether users can read it yet and whether it
# is the one in force.
STANDINGS = {"draft": "草稿", "pending": "待审核", "in_force": "现行版本", "upcoming": "已发布 · 即将生效",
             "scheduled": "已发布 · 待公布", "superseded": "历史版本"}


class VersionChanged(AgreementError):
    """The version is no longer in the state the step needs (someone else acted first)."""


def facts(version):
    """What the audit log keeps of a version: its label, dates, summary and state; of the text (not personal, but
    long) its length and SHA-256 digest."""
    return {"agreement": version.agreement.title, "version": version.version,
            "released_on": version.released_on.isoformat(), "effective_on": version.effective_on.isoformat(),
            "summary": version.summary, "state": version.state, "body_length": len(version.body),
            "body_digest": digest(version.body)}


def digest(body):
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# Reading

def get(version_id):
    return db.session.get(AgreementVersion, version_id)


def get_agreement(agreement_id):
    return db.session.get(Agreement, agreement_id)


def standing(version, in_force, today):
    """A key of STANDINGS."""
    if version.state != "published":
        return version.state
    if in_force is not None and version.id == in_force.id:
        return "in_force"
    if version.released_on > today:
        return "scheduled"
    return "upcoming" if version.effective_on > today else "superseded"


def overview(today):
    """Every agreement (the platform's first) with all its versions, newest first, each with its standing."""
    agreements = sorted(db.session.scalars(select(Agreement)).all(),
                        key=lambda a: (SCOPES.index(a.scope) if a.scope in SCOPES else len(SCOPES), a.position, a.id))
    versions = {}
    for version in db.session.scalars(select(AgreementVersion).order_by(
            AgreementVersion.effective_on.desc(), AgreementVersion.id.desc())):
        versions.setdefault(version.agreement_id, []).append(version)
    listed = []
    for agreement in agreements:
        in_force = effective_version(agreement, today)
        listed.append((agreement, [(v, standing(v, in_force, today)) for v in versions.get(agreement.id, [])]))
    return listed


def history(version):
    """The audit rows of the version, newest first."""
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == OBJECT_TYPE, AuditEvent.object_id == str(version.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()


def writers(version):
    """Ids of the staff who drafted or edited the version."""
    return set(db.session.scalars(select(AuditEvent.staff_id).where(
        AuditEvent.object_type == OBJECT_TYPE, AuditEvent.object_id == str(version.id),
        AuditEvent.action.in_(WRITTEN))))


def may_review(version, staff):
    """Whether ``staff`` may approve or send back the version: not its preparer, nor anyone who wrote part of it."""
    return version.prepared_by_id != staff.id and staff.id not in writers(version)


def previous_version(version):
    """The published version in force the day before ``version`` takes effect: what a user re-accepting had
    accepted."""
    return effective_version(version.agreement, version.effective_on - timedelta(days=1))


def as_published(version, on):
    """What users would read on the day ``on`` were ``version`` published: the versions released by then, newest
    first, and the one in force."""
    shown = [v for v in version.agreement.versions if v.released_on <= on and v.id != version.id]
    shown = sorted([*shown, version], key=lambda v: (v.effective_on, v.id), reverse=True)
    return shown, next((v for v in shown if v.effective_on <= on), None)


# Rules

def check_dates(agreement, released_on, effective_on, today, version_id=None):
    """Release and effective dates not in the past, in that order, and taking effect after every published
    version of the agreement (so each takes over from the one before, never the other way round)."""
    if released_on < today:
        raise AgreementError(f"发布日期不能早于今天（{today.isoformat()}）", "released_on")
    if effective_on < today:
        raise AgreementError(f"生效日期不能早于今天（{today.isoformat()}）", "effective_on")
    if effective_on < released_on:
        raise AgreementError("生效日期不能早于发布日期", "effective_on")
    latest = next((v for v in agreement.versions if v.id != version_id), None)
    if latest is not None and effective_on <= latest.effective_on:
        raise AgreementError(f"生效日期须晚于已发布的版本 {latest.version} 的生效日期（{latest.effective_on.isoformat()}）",
                             "effective_on")


def _check_label(agreement, label, version_id=None):
    taken = select(AgreementVersion.id).where(AgreementVersion.agreement_id == agreement.id,
                                              AgreementVersion.version == label)
    if version_id is not None:
        taken = taken.where(AgreementVersion.id != version_id)
    if db.session.scalar(taken):
        raise _taken(agreement, label)


def _taken(agreement, label):
    return AgreementError(f"《{agreement.title}》已有版本 {label}，请换一个版本号", "version")


# The steps

def create_draft(agreement, staff, *, version, released_on, effective_on, summary, body, today, now, ip):
    check_dates(agreement, released_on, effective_on, today)
    _check_label(agreement, version)
    row = AgreementVersion(agreement=agreement, version=version, released_on=released_on, effective_on=effective_on,
                           summary=summary, body=body, created_at=now, state="draft", prepared_by_id=staff.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as error:  # the same label, saved meanwhile
        raise _taken(agreement, version) from error
    audit.record("agreement_version.drafted", staff=staff, object_type=OBJECT_TYPE, object_id=row.id,
                 after=facts(row), ip=ip, now=now)
    return row


def update_draft(version, staff, *, label, released_on, effective_on, summary, body, today, now, ip):
    """Saves the draft's new text and dates; whoever saves it becomes its preparer. Returns whether anything
    changed."""
    if version.state != "draft":
        raise VersionChanged("该版本已提交审核或已发布，不能再修改")
    check_dates(version.agreement, released_on, effective_on, today, version.id)
    _check_label(version.agreement, label, version.id)
    before = facts(version)
    try:
        with db.session.begin_nested():
            done = db.session.execute(update(AgreementVersion).where(
                AgreementVersion.id == version.id, AgreementVersion.state == "draft").values(
                version=label, released_on=released_on, effective_on=effective_on, summary=summary, body=body,
                prepared_by_id=staff.id))
    except IntegrityError as error:
        raise _taken(version.agreement, label) from error
    if done.rowcount != 1:
        raise VersionChanged("该版本已提交审核或已发布，不能再修改")
    db.session.refresh(version)
    old, new = audit.changes(before, facts(version))
    if not new:
        return False
    audit.record("agreement_version.edited", staff=staff, object_type=OBJECT_TYPE, object_id=version.id,
                 before=old, after=new, ip=ip, now=now)
    return True


def _move(version, source, **values):
    """One conditional UPDATE from ``source`` (and the same submission): whoever acts second is told."""
    done = db.session.execute(update(AgreementVersion).where(
        AgreementVersion.id == version.id, AgreementVersion.state == source,
        AgreementVersion.submitted_at.is_(None) if version.submitted_at is None
        else AgreementVersion.submitted_at == version.submitted_at).values(**values))
    if done.rowcount != 1:
        raise VersionChanged("该版本的状态已经变化（可能已由同事处理），请刷新后查看")
    db.session.refresh(version)


def submit(version, staff, *, today, now, ip):
    """A draft goes to approval, its dates checked again."""
    if version.state != "draft":
        raise VersionChanged("只有草稿可以提交审核")
    check_dates(version.agreement, version.released_on, version.effective_on, today, version.id)
    _move(version, "draft", state="pending", submitted_at=now)
    audit.record("agreement_version.submitted", staff=staff, object_type=OBJECT_TYPE, object_id=version.id,
                 before={"state": "draft"}, after={"state": "pending"}, ip=ip, now=now)


def _check_reviewer(version, staff):
    check_reviewer(version.prepared_by_id, staff)
    if staff.id in writers(version):
        raise ReviewRefused("你起草或修改过此版本，不能审核，请由另一位同事审核", "reason")


def approve(version, staff, *, reason, today, now, ip):
    """Published: users read it from its release date and accept it again from its effective date."""
    if version.state != "pending":
        raise VersionChanged("该版本不在待审核状态")
    _check_reviewer(version, staff)
    try:
        check_dates(version.agreement, version.released_on, version.effective_on, today, version.id)
    except AgreementError as error:  # it waited too long, or another version was published meanwhile
        raise AgreementError(f"{error.message}：请退回，由起草人修改日期后重新提交", "reason") from error
    _move(version, "pending", state="published", reviewed_by_id=staff.id, reviewed_at=now)
    audit.record("agreement_version.approved", staff=staff, object_type=OBJECT_TYPE, object_id=version.id,
                 before={"state": "pending"},
                 after={"state": "published", "released_on": version.released_on.isoformat(),
                        "effective_on": version.effective_on.isoformat(), "body_digest": digest(version.body)},
                 reason=reason, ip=ip, now=now)


def send_back(version, staff, *, reason, now, ip):
    """Back to a draft, with the reason (kept in the audit log, shown on the draft)."""
    if version.state != "pending":
        raise VersionChanged("该版本不在待审核状态")
    _check_reviewer(version, staff)
    _move(version, "pending", state="draft", submitted_at=None)
    audit.record("agreement_version.returned", staff=staff, object_type=OBJECT_TYPE, object_id=version.id,
                 before={"state": "pending"}, after={"state": "draft"}, reason=reason, ip=ip, now=now)


def last_return(version):
    """The audit row of the latest send-back, while the version is a draft again (its reason is shown)."""
    if version.state != "draft":
        return None
    return next((e for e in history(version) if e.action == "agreement_version.returned"), None)


def published_from_shell(version, now):
    """The audit row of `flask agreements publish` (no staff account: the shell)."""
    audit.record("agreement_version.published", object_type=OBJECT_TYPE, object_id=version.id, after=facts(version),
                 now=now, username="flask agreements")
