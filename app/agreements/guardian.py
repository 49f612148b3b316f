"""A minor's acceptance, approved by a guardian on the guardian's own phone through the QR bridge:
the minor's page shows a code; the guardian scans it with their own WeChat, sees who is asking and what,
gives name, ID number (an adult's) and relationship, and confirms. Only then are the minor's consents
written, each linked to the guardian's.

Flushes at most; the view commits.
"""
import json

from sqlalchemy import select
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from app.agreements import services
from app.agreements.models import RELATIONSHIPS, AgreementVersion, GuardianConsent
from app.auth import qrlogin
from app.auth.models import User
from app.core.clock import age_on
from app.core.forms import normalise_legal_name
from app.core.pii import keyed_hash
from app.extensions import db


def approval_request(minor, version_ids, *, submission, original, today, ip, user_agent, channel):
    """What the guardian's code carries (the QR bridge's payload): the versions the minor ticked, checked,
    and what to write and where to go once the guardian approves."""
    versions = sorted(services.check_acceptance(minor, version_ids, submission, today))
    return json.dumps({"versions": versions, "submission": submission, "original": original, "ip": ip,
                       "user_agent": user_agent[:400], "channel": channel}, ensure_ascii=False)


def request_details(qr):
    """What the guardian is asked to approve: the minor, the agreement versions, where the minor goes next."""
    data = json.loads(qr.payload or "{}")
    versions = db.session.scalars(select(AgreementVersion).where(
        AgreementVersion.id.in_(data.get("versions", []))).order_by(AgreementVersion.id)).all()
    return db.session.get(User, qr.requester_user_id), versions, data.get("original", {})


class GuardianDetailsError(services.AgreementError):
    """Every field at fault at once: ``errors`` maps a field to its message."""

    def __init__(self, errors):
        super().__init__("；".join(errors.values()))
        self.errors = errors


def check_guardian(name, id_number, relationship, today):
    """The guardian's details, or GuardianDetailsError naming each field at fault. Returns the name and
    the normalised ID number."""
    errors = {}
    try:
        name = normalise_legal_name(name)
    except ValueError as error:
        errors["name"] = "请填写监护人的真实姓名" if not (name or "").strip() else str(error)
    number = None
    try:
        number = ric.validate((id_number or "").strip())
    except ValidationError:
        errors["id_number"] = "身份证号码无效，请检查后重新填写"
    if number and age_on(ric.get_birth_date(number), today) < services.ADULT_AGE:
        errors["id_number"] = "监护人须年满18周岁"
    if relationship not in RELATIONSHIPS:
        errors["relationship"] = "请选择你与未成年人的关系"
    if errors:
        raise GuardianDetailsError(errors)
    return name, number


def approve(qr, openid, *, name, id_number, relationship, today, now, ip, user_agent):
    """The guardian confirms: their account (never the minor's own), the guardian consent, and the
    minor's consents linked to it, in one unit of work."""
    name, number = check_guardian(name, id_number, relationship, today)
    guardian = qrlogin.confirm(qr, openid, now)
    if guardian.id_hash and guardian.id_hash != keyed_hash(number):
        raise GuardianDetailsError({"id_number": "与你在本平台实名认证的身份证号码不一致，请填写你本人的身份证号码"})
    if guardian.real_name and guardian.real_name != name:
        raise GuardianDetailsError({"name": "与你在本平台实名认证的姓名不一致，请填写你本人的姓名"})
    data = json.loads(qr.payload)
    consent = GuardianConsent(minor_user_id=qr.requester_user_id, guardian_user_id=guardian.id,
                              guardian_name=name, guardian_id_number=number, guardian_id_hash=keyed_hash(number),
                              relationship_to_minor=relationship, qr_login_id=qr.id, at=now, ip=ip,
                              user_agent=user_agent[:400])
    db.session.add(consent)
    db.session.flush()
    minor = db.session.get(User, qr.requester_user_id)
    services.record_acceptance(minor, data["versions"], submission=data["submission"], today=today, now=now,
                               ip=data["ip"], user_agent=data["user_agent"], channel=data["channel"],
                               guardian_consent_id=consent.id)
    return consent
