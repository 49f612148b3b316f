"""Claims: the state machine, for the claimant and for the claims team.

draft ─submit→ submitted ─take→ reviewing ─request→ awaiting_supplement ─supplied→ reviewing ─decide→ closed
─pay→ paid; withdrawn from any state before a decision; a refusal appealed once (复核) goes back to
reviewing for another handler. Every move is one conditional UPDATE on the status it leaves (of two clicks,
two tabs or two handlers, one moves it; the other is told it already moved), a timeline row, and a message
to the claimant. Flushes only: the caller commits.
"""
import json
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from stdnum.cn import ric

from app.auth.models import User
from app.claims import checklist, clock
from app.claims.models import DECISIONS, OPEN, STATUSES, Claim, ClaimDocument, ClaimEvent
from app.core.clock import age_on
from app.core.domain import DomainError
from app.extensions import db
from app.notifications import notify
from app.notifications.templates import CLAIM_UPDATE
from app.orders.services import plan_of

REASONS = {"not_covered": "不属于保险责任范围", "waiting_period": "保险事故发生在等待期内", "exclusion": "属于责任免除情形",
           "non_disclosure": "投保时未如实告知", "out_of_period": "不在保险期间内", "unproven": "材料不能证明保险事故",
           "other": "其他原因"}
WITHDRAWABLE = ("draft", *OPEN)


class ClaimError(DomainError):
    pass


def new_number(today: date) -> str:
    return f"LP{today:%Y%m%d}{secrets.randbelow(10**8):08d}"


# Reading


def claims_of(user):
    return db.session.scalars(select(Claim).where(Claim.user_id == user.id)
                              .order_by(Claim.created_at.desc(), Claim.id.desc())).all()


def find(user, number):
    """The user's own claim, or None (another's is not found, never forbidden)."""
    if not isinstance(number, str):
        return None
    return db.session.scalar(select(Claim).where(Claim.number == number, Claim.user_id == user.id))


def by_number(number):
    return db.session.scalar(select(Claim).where(Claim.number == number)) if isinstance(number, str) else None


def sum_insured(policy) -> int:
    return plan_of(policy).sum_assured_fen


def insured_age(policy, today):
    number = (policy.details.get("insured") or {}).get("id_number")
    return age_on(ric.get_birth_date(number), today) if number else None


def waiting_until(policy):
    """The last day of the waiting period (等待期), or None when the product has none."""
    days = policy.product.waiting_period_days
    return policy.starts_on + timedelta(days=days - 1) if days else None


def checklist_of(claim):
    details = claim.details
    return checklist.required(claim.policy.product, reimbursed_elsewhere=details.get("reimbursed_elsewhere", False),
                              minor=details.get("minor", False))


def documents_by_item(claim):
    found = {}
    for document in claim.documents:
        found.setdefault(document.item, []).append(document)
    return found


@dataclass
class Precheck:
    """预审: what stops the claim from being sent (missing items) and what the claimant should look at."""
    missing: list[str] = field(default_factory=list)  # checklist keys without a document
    warnings: list[tuple[ClaimDocument, str]] = field(default_factory=list)

    @property
    def ready(self):
        return not self.missing and not self.warnings


def precheck(claim):
    """Every required document present; none unreadable (the warning found on arrival) nor already sent in
    another claim."""
    from app.claims.documents import duplicates

    have = documents_by_item(claim)
    result = Precheck(missing=[item for item in checklist_of(claim) if not have.get(item)])
    for document in claim.documents:
        if document.warning:
            result.warnings.append((document, document.warning))
        for other in duplicates(claim, document.digest):
            result.warnings.append((document, f"该文件已在理赔 {other.number} 中提交过" if other.user_id == claim.user_id
                                    else "该文件已在其他理赔中提交过，请上传本次理赔的材料"))
            break
    return result


# The claimant


def start(user, policy, *, event_date, description, amount_claimed_fen, payee, reimbursed_elsewhere,
          accept_waiting, today, now):
    """A draft claim on the user's policy (their draft on it, if they have one, is resumed with these
    answers). Raises ClaimError naming the field at fault."""
    if policy.user_id != user.id:
        raise ClaimError("找不到这张保单", "event_date")
    kind = checklist.kind_of(policy.product)
    if event_date > today:
        raise ClaimError("出险日期不能晚于今天", "event_date")
    last_day = min(policy.ends_on, policy.surrendered_at.date() if policy.surrendered_at else policy.ends_on)
    if not policy.starts_on <= event_date <= last_day:
        raise ClaimError(f"出险日期须在保险期间内（{policy.starts_on:%Y-%m-%d} 至 {last_day:%Y-%m-%d}）", "event_date")
    waiting = waiting_until(policy)
    if waiting is not None and event_date <= waiting and not accept_waiting:
        raise ClaimError(f"出险日期在等待期内（{policy.starts_on:%Y-%m-%d} 至 {waiting:%Y-%m-%d}）：等待期内发生的疾病，"
                         "保险公司通常不承担责任（意外导致的除外）。如仍要申请，请勾选下方确认。", "accept_waiting")
    if kind in checklist.AMOUNT_KINDS and not amount_claimed_fen:
        raise ClaimError("请填写申请理赔的金额", "amount")
    age = insured_age(policy, today)
    claim = _draft_of(policy) or _new_draft(user, policy, kind, event_date, today, now)
    claim.event_date, claim.updated_at = event_date, now
    claim.amount_claimed_fen = amount_claimed_fen if kind in checklist.AMOUNT_KINDS else None
    claim.save_details(description=description, payee=payee, reimbursed_elsewhere=bool(reimbursed_elsewhere),
                       minor=age is not None and age < 18, in_waiting_period=waiting is not None and event_date <= waiting)
    db.session.flush()
    return claim


def _draft_of(policy):
    return db.session.scalar(select(Claim).where(Claim.policy_id == policy.id, Claim.status == "draft"))


def _new_draft(user, policy, kind, event_date, today, now):
    """One draft per policy (a unique index): of two requests at once, the second resumes the first's."""
    claim = Claim(number=new_number(today), user_id=user.id, policy_id=policy.id, kind=kind, status="draft",
                  event_date=event_date, created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(claim)
    except IntegrityError:
        claim = _draft_of(policy)
    return claim


def submit(claim, now):
    check = precheck(claim)
    if check.missing:
        raise ClaimError("还缺少：" + "、".join(checklist.label(item) for item in check.missing), "submit")
    if check.warnings:
        raise ClaimError("有材料需要重新上传，请按预审提示处理", "submit")
    _move(claim, ("draft",), "submitted", actor="user", now=now, note="理赔申请已提交，平台已转交保险公司审核",
          before=lambda: clock.submitted(claim, now))
    _tell(claim, "你的理赔申请已提交", "保险公司将在30日内作出核定，材料不全时会一次性告知所需材料。")


def withdraw(claim, now):
    _move(claim, WITHDRAWABLE, "withdrawn", actor="user", now=now, note="申请人撤回了理赔申请",
          values={"withdrawn_at": now, "paused_since": None})


def supplied(claim, now):
    """The claimant has uploaded what was asked: back to the insurer, the clock running again."""
    have = {d.item for d in claim.documents if d.supplement}
    missing = [item for item in claim.requested_items if item not in have]
    if missing:
        raise ClaimError("还缺少：" + "、".join(checklist.label(item) for item in missing), "submit")
    _move(claim, ("awaiting_supplement",), "reviewing", actor="user", now=now, note="已补充材料，恢复审核计时",
          before=lambda: clock.resume(claim, now))


def appeal(claim, reason, now):
    """A refusal appealed, once: reviewed again by a handler other than the one who refused."""
    if claim.status != "closed" or claim.decision != "rejected":
        raise ClaimError("只有拒赔的案件可以申请复核", "reason")
    if claim.appealed_at is not None:
        raise ClaimError("本案已申请过复核", "reason")
    claim.save_details(appeal_reason=reason)
    _move(claim, ("closed",), "reviewing", actor="user", now=now, note="申请人申请复核，将由另一位审核人员重新审核",
          values={"appealed_at": now, "appeal_excluded_id": claim.decided_by_id, "handler_id": None,
                  "decision": None, "approved_fen": None, "reason_code": None, "reason_text": "", "clause": "",
                  "decided_at": None, "decided_by_id": None, "data": claim.data},
          before=lambda: clock.reopened(claim, now), guard=Claim.appealed_at.is_(None))
    _tell(claim, "你的复核申请已受理", "将由另一位审核人员重新审核，30日内作出核定。")


# The claims team


def take(claim, staff, now):
    """A handler takes a new claim (or an appealed one: not the one who refused it)."""
    if claim.appeal_excluded_id == staff.id and claim.appealed_at is not None:
        raise ClaimError("复核须由另一位理赔人员处理", "note")
    if claim.status == "reviewing" and claim.handler_id is None:  # an appeal, waiting for its handler
        done = db.session.execute(update(Claim).where(Claim.id == claim.id, Claim.status == "reviewing",
                                                      Claim.handler_id.is_(None)).values(handler_id=staff.id)).rowcount
        if not done:
            raise ClaimError("本案已由其他人员受理，请刷新页面", "note")
        db.session.add(ClaimEvent(claim_id=claim.id, at=now, status="reviewing", actor="staff", staff_id=staff.id,
                                  note="复核已受理，由另一位审核人员重新审核"))
        db.session.flush()
        db.session.refresh(claim)
        _tell(claim, "你的复核申请正在审核", "由另一位审核人员重新审核，30日内作出核定。")
        return
    _move(claim, ("submitted",), "reviewing", actor="staff", staff=staff, now=now, note="保险公司已受理，审核中",
          values={"handler_id": staff.id})
    _tell(claim, "你的理赔申请正在审核", "审核中如需补充材料，会一次性告知。")


def request_supplement(claim, staff, items, note, now):
    """Asks once for everything missing (checklist items, and 其他材料 described in ``note``); the clock
    pauses until the claimant supplies them."""
    _handling(claim, staff)
    items = list(dict.fromkeys(item for item in items if item in checklist.ITEMS))
    if not items:
        raise ClaimError("请选择需要补充的材料", "items")
    if "other" in items and not note:
        raise ClaimError("选择“其他材料”时，请写明需要什么", "note")
    listed = "、".join(checklist.label(item) for item in items)
    _move(claim, ("reviewing",), "awaiting_supplement", actor="staff", staff=staff, now=now,
          note=f"请补充：{listed}" + (f"（{note}）" if note else ""),
          values={"requested": json.dumps(items)}, before=lambda: clock.pause(claim, now))
    _tell(claim, "你的理赔需要补充材料", f"请补充：{listed}。补齐后恢复审核计时。")


def decide(claim, staff, *, decision, approved_fen, reason_code, reason_text, clause, now):
    """The insurer's decision as recorded by a person. Approved: at most the sum insured and what was claimed;
    partial: less than claimed; refused: a reason code, its explanation and the clause."""
    _handling(claim, staff)
    limit = sum_insured(claim.policy)
    if decision not in DECISIONS:
        raise ClaimError("请选择核定结果", "decision")
    if decision == "rejected":
        if reason_code not in REASONS or not reason_text:
            raise ClaimError("拒赔须选择原因并写明理由", "reason_text")
        if not clause:
            raise ClaimError("拒赔须写明依据的条款", "clause")
        approved_fen = None
    else:
        if not approved_fen or approved_fen <= 0:
            raise ClaimError("请填写核定赔付金额", "approved")
        if approved_fen > limit:
            raise ClaimError(f"赔付金额不能超过保额 ¥{limit / 100:,.2f}", "approved")
        claimed = claim.amount_claimed_fen
        if claimed is not None and approved_fen > claimed:
            raise ClaimError(f"赔付金额不能超过申请金额 ¥{claimed / 100:,.2f}", "approved")
        if decision == "partial":
            if claimed is not None and approved_fen >= claimed:
                raise ClaimError("部分赔付的金额应少于申请金额；全额赔付请选择“赔付”", "approved")
            if not reason_text:
                raise ClaimError("部分赔付请写明未赔付部分的理由", "reason_text")
    values = {"decision": decision, "approved_fen": approved_fen, "reason_code": reason_code if decision != "approved"
              else None, "reason_text": reason_text or "", "clause": clause or "", "decided_by_id": staff.id}
    shown = {"approved": f"核定赔付 ¥{(approved_fen or 0) / 100:,.2f}",
             "partial": f"部分赔付 ¥{(approved_fen or 0) / 100:,.2f}：{reason_text}",
             "rejected": f"拒赔：{REASONS.get(reason_code, '')}。{reason_text}（依据：{clause}）"}[decision]

    def settle():
        claim.decision = decision
        clock.decided(claim, now)
    _move(claim, ("reviewing",), "closed", actor="staff", staff=staff, now=now, note=shown, values=values,
          before=settle)
    if decision == "rejected":
        _tell(claim, "你的理赔申请已结案：拒赔", f"{REASONS[reason_code]}。可在理赔详情中查看理由，并申请一次复核。")
    else:
        _tell(claim, f"你的理赔申请已结案：{DECISIONS[decision]}", f"赔付 ¥{approved_fen / 100:,.2f}，将在10日内到账。")


def paid(claim, now, how):
    """The money arrived (a transfer confirmed, or the insurer's bank payment recorded)."""
    _move(claim, ("closed",), "paid", actor="system", now=now, note=f"赔款 ¥{claim.approved_fen / 100:,.2f} 已到账（{how}）",
          values={"paid_at": now}, guard=Claim.decision.in_(("approved", "partial")))
    _tell(claim, "赔款已到账", f"¥{claim.approved_fen / 100:,.2f} 已支付（{how}）。")


def flag_overdue(now):
    """Claims past a deadline, flagged once (the queue shows them first). Returns how many."""
    late = or_(and_(Claim.status.in_(("submitted", "reviewing")), Claim.decision_due_at < now),
               and_(Claim.status == "closed", Claim.decision.in_(("approved", "partial")), Claim.payout_due_at < now))
    return db.session.execute(update(Claim).where(late, Claim.overdue_at.is_(None)).values(overdue_at=now)
                              .execution_options(synchronize_session=False)).rowcount


# Moves


def _handling(claim, staff):
    if claim.status != "reviewing":
        raise ClaimError(f"当前状态为“{STATUSES[claim.status]}”，不能进行此操作", "note")
    if claim.appealed_at is not None and claim.appeal_excluded_id == staff.id:
        raise ClaimError("复核须由另一位理赔人员处理", "note")
    if claim.handler_id is None:
        raise ClaimError("请先受理本案", "note")
    if claim.handler_id != staff.id:
        raise ClaimError("本案由其他理赔人员受理，请由受理人处理", "note")


def _move(claim, sources, target, *, actor, now, note, staff=None, values=None, before=None, guard=None):
    """One conditional UPDATE from ``sources`` to ``target`` (``before`` sets the clock fields on the object
    first, and they go in the same UPDATE), then the timeline row."""
    if before is not None:
        before()
    clock_fields = {name: getattr(claim, name) for name in ("submitted_at", "decision_due_at", "paused_since",
                                                            "decided_at", "payout_due_at")}
    condition = [Claim.id == claim.id, Claim.status.in_(sources)]
    if guard is not None:
        condition.append(guard)
    done = db.session.execute(update(Claim).where(*condition).values(
        {"status": target, "updated_at": now, **clock_fields, **(values or {})})
        .execution_options(synchronize_session=False)).rowcount
    if not done:
        db.session.expire(claim)
        raise ClaimError("理赔状态已经变化，请刷新页面查看", "note")
    db.session.add(ClaimEvent(claim_id=claim.id, at=now, status=target, actor=actor,
                              staff_id=staff.id if staff else None, note=note))
    db.session.flush()
    db.session.refresh(claim)


def _tell(claim, first, remark):
    user = db.session.get(User, claim.user_id)
    url = current_app.config["SITE_URL"].rstrip("/") + f"/claims/{claim.number}"
    notify(user, CLAIM_UPDATE, url=url, data={"first": first, "keyword1": claim.number,
                                              "keyword2": STATUSES[claim.status], "remark": remark})

