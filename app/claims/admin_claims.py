"""The claims team's work in the back office (理赔): the queue by the deadline that applies, one claim as the
handler reads it (personal data masked), each action through services.py with its audit row in the same
transaction (支付's right after payout.py's own) holding status, decision and amounts only, never what the
claimant wrote or sent; and a product's own checklist. The pages are admin_views.py's."""
import json
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.admin import audit
from app.admin.models import AdminStaff
from app.catalog.models import Product
from app.claims import checklist, clock, services
from app.claims.models import DECISIONS, OPEN, PAYOUT_METHODS, STATUSES, Claim, ClaimChecklist, ClaimDocument
from app.core.database import begin_write
from app.core.masking import mask_name
from app.extensions import db

# What the queue holds: the claims with the insurer, and those agreed but not yet paid (the 10-day clock).
PAYABLE = ("approved", "partial")
QUEUE_STATES = {"submitted": "已提交", "reviewing": "审核中", "awaiting_supplement": "待补充材料", "closed": "已核定待支付"}
WHO = {"mine": "我受理的", "unassigned": "未受理"}
PAYOUT_STATES = {"pending": "待发起", "processing": "转账处理中", "paid": "已支付", "failed": "失败"}
# Items a product's list may hold (the claimant's own, the answers' and the handler's "other" are added per claim).
PRODUCT_ITEMS = [key for key in checklist.ITEMS
                 if key not in (*checklist.EVERY_CLAIM, *checklist.MINOR, "settlement", "other")]

audit.register(
    actions={"claim.taken": "受理理赔", "claim.supplement_requested": "要求补充理赔材料",
             "claim.decided": "录入理赔核定结果", "claim.paid": "登记理赔赔款支付",
             "claim.document_viewed": "查看理赔材料", "claim.checklist_saved": "修改产品理赔材料清单"},
    object_types={"claim": "理赔案件"},
    field_labels={"claim_status": "理赔状态", "claim_handler": "受理人", "claim_decision": "核定结果",
                  "claim_approved_fen": "核定赔付（分）", "claim_reason": "原因", "claim_items": "材料",
                  "claim_payout": "支付方式", "claim_payout_status": "支付状态", "claim_item": "材料项",
                  "claim_document": "文件编号"},
    value_labels={"claim_status": STATUSES, "claim_decision": DECISIONS, "claim_reason": services.REASONS,
                  "claim_payout": PAYOUT_METHODS, "claim_payout_status": PAYOUT_STATES,
                  "claim_item": {key: label for key, (label, _hint) in checklist.ITEMS.items()}},
)


# The queue

def _due():
    """The deadline that applies (clock.deadline, in SQL): none while the claimant is asked for more."""
    return case((Claim.status.in_(("submitted", "reviewing")), Claim.decision_due_at),
                (Claim.status == "closed", Claim.payout_due_at), else_=None)


def _queued():
    return or_(Claim.status.in_(OPEN), and_(Claim.status == "closed", Claim.decision.in_(PAYABLE)))


def queue(staff, now, *, status=None, who=None, overdue=False, number=None):
    """The open claims, the earliest deadline first (so the overdue lead), those paused for the claimant last
    (a Select, for paging)."""
    due = _due()
    query = select(Claim).where(_queued()).order_by(case((due.is_(None), 1), else_=0), due, Claim.id)
    if status in QUEUE_STATES:
        query = query.where(Claim.status == status)
    if who == "mine":
        query = query.where(Claim.handler_id == staff.id)
    elif who == "unassigned":
        query = query.where(Claim.handler_id.is_(None))
    if overdue:
        query = query.where(due < now)
    if number:
        query = query.where(Claim.number == number)
    return query


def counts(now):
    """How many claims the queue holds in each of its states, and how many are past their deadline."""
    found = dict(db.session.execute(select(Claim.status, func.count()).where(_queued()).group_by(Claim.status)).all())
    late = db.session.scalar(select(func.count()).select_from(Claim).where(_queued(), _due() < now))
    return {code: found.get(code, 0) for code in QUEUE_STATES}, late


@dataclass(frozen=True)
class Row:
    claim: Claim
    claimant: str  # masked
    deadline: clock.Deadline | None
    days_left: int | None  # days_left()


def rows(claims, now):
    return [Row(claim, claimant_masked(claim), clock.deadline(claim, now), days_left(claim, now)) for claim in claims]


def days_left(claim, now):
    """Whole days to the deadline (past it: how many whole days late, negative or 0); paused: what is left of
    the 30 days when the claimant has supplied."""
    deadline = clock.deadline(claim, now)
    if deadline is None:
        return None
    if deadline.due_at is None:
        remaining = clock.remaining_when_paused(claim)
        return remaining.days if remaining is not None else None
    return -(now - deadline.due_at).days if deadline.overdue else deadline.days_left(now)


def claimant_masked(claim):
    """Who claims: the payee's name (the claimant), else the policyholder's, masked."""
    payee = claim.details.get("payee") or {}
    applicant = claim.policy.details.get("applicant") or {}
    return mask_name(payee.get("holder") or applicant.get("name") or "") or "—"


# One claim

def names(staff_ids):
    """id → display name of the staff members named."""
    ids = {i for i in staff_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(AdminStaff.id, AdminStaff.display_name).where(AdminStaff.id.in_(ids))).all())


def people(claim):
    """The staff named on the claim and its timeline."""
    return names([claim.handler_id, claim.decided_by_id, claim.appeal_excluded_id, *(e.staff_id for e in claim.events)])


def masked_parties(claim):
    """The people on the claim as the handler sees them: names masked, the account by its last four digits."""
    policy = claim.policy.details
    payee = claim.details.get("payee") or {}
    account = str(payee.get("account") or "")
    return {"applicant": mask_name((policy.get("applicant") or {}).get("name")) or "—",
            "insured": mask_name((policy.get("insured") or {}).get("name")) or "—",
            "method": payee.get("method"), "bank": payee.get("bank") or "",
            "account": f"尾号 {account[-4:]}" if len(account) >= 4 else "—"}


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    hint: str
    documents: list
    required: bool  # on the claim's checklist
    requested: bool  # asked for in the supplement request


def checklist_items(claim):
    """The claim's checklist, each item with its documents; then what was asked for beyond it, and documents
    filed under an item the checklist no longer holds."""
    have = services.documents_by_item(claim)
    required = services.checklist_of(claim)
    requested = claim.requested_items
    keys = list(dict.fromkeys([*required, *requested, *have]))
    return [Item(key, *checklist.ITEMS.get(key, (key, "")), have.get(key, []), key in required, key in requested)
            for key in keys]


def document(claim, token):
    if not isinstance(token, str):
        return None
    return db.session.scalar(select(ClaimDocument).where(ClaimDocument.claim_id == claim.id,
                                                         ClaimDocument.token == token))


# The actions: services.py's move, then its audit row (same transaction; the caller commits)

def _state(claim):
    return {"claim_status": claim.status, "claim_handler": claim.handler_id, "claim_decision": claim.decision,
            "claim_approved_fen": claim.approved_fen, "claim_reason": claim.reason_code}


def _audited(action, claim, staff, move, *, ip, extra=None):
    """``extra``: more of the after state, read once the move is made."""
    before = _state(claim)
    move()
    changed_before, changed_after = audit.changes(before, _state(claim))
    audit.record(action, staff=staff, object_type="claim", object_id=claim.number, before=changed_before,
                 after={**changed_after, **(extra() if extra else {})}, ip=ip)


def take(claim, staff, *, now, ip):
    _audited("claim.taken", claim, staff, lambda: services.take(claim, staff, now), ip=ip)


def request_supplement(claim, staff, items, note, *, now, ip):
    """One request listing every missing item (the note is the claimant's to read, not the log's)."""
    _audited("claim.supplement_requested", claim, staff,
             lambda: services.request_supplement(claim, staff, items, note, now), ip=ip,
             extra=lambda: {"claim_items": [checklist.label(item) for item in claim.requested_items]})


def decide(claim, staff, *, decision, approved_fen, reason_code, reason_text, clause, now, ip):
    _audited("claim.decided", claim, staff, lambda: services.decide(
        claim, staff, decision=decision, approved_fen=approved_fen, reason_code=reason_code or None,
        reason_text=reason_text, clause=clause, now=now), ip=ip)


def pay(claim, staff, method, *, now, ip):
    """支付 through payout.pay_out, which commits each step itself and asks WeChat Pay outside any write; its
    audit row follows in a write of its own once it has answered, whatever it answered. Returns the payout as it
    stands (paid, a transfer in progress, or failed)."""
    from app.claims.payout import pay_out

    if claim.status == "paid":
        raise services.ClaimError("本案赔款已到账，无需再次支付", "method")
    before = _state(claim)
    payout = pay_out(claim, staff, method, now)
    begin_write()
    changed_before, changed_after = audit.changes(before, _state(claim))
    audit.record("claim.paid", staff=staff, object_type="claim", object_id=claim.number, before=changed_before,
                 after={**changed_after, "claim_payout": payout.method, "claim_payout_status": payout.status}, ip=ip)
    return payout


def document_viewed(claim, document, staff, *, ip):
    """Claim documents are sensitive personal information: every opening is on the log (which, never what)."""
    audit.record("claim.document_viewed", staff=staff, object_type="claim", object_id=claim.number,
                 after={"claim_item": document.item, "claim_document": document.id}, ip=ip)


# A product's own checklist

def products():
    """Every product with the list its claims ask for: (product, item keys, its own list or the default)."""
    own = dict(db.session.execute(select(ClaimChecklist.product_id, ClaimChecklist.items)).all())
    listed = db.session.scalars(select(Product).order_by(Product.category_id, Product.id)).all()
    return [(product, json.loads(own[product.id]) if product.id in own else checklist.DEFAULTS[checklist.kind_of(product)],
             product.id in own) for product in listed]


def own_checklist(product):
    return db.session.scalar(select(ClaimChecklist).where(ClaimChecklist.product_id == product.id))


def save_checklist(product, staff, items, *, now, ip):
    """The product's list (the ticked items, in the checklist's order); ``items`` None goes back to the kind's
    default. Nothing is written when the list its claims ask for stays the same. Returns whether it changed."""
    before = checklist.product_items(product)
    default = checklist.DEFAULTS[checklist.kind_of(product)]
    after = default if items is None else [key for key in PRODUCT_ITEMS if key in items]
    if not after:
        raise services.ClaimError("请至少选择一项材料（申请人身份证与收款银行卡另外必交）", "items")
    if after == before:
        return False
    row = own_checklist(product)
    if after == default:
        if row is not None:
            db.session.delete(row)
    elif row is not None:
        row.items, row.updated_at, row.updated_by_id = json.dumps(after), now, staff.id
    else:
        try:  # one list a product (unique): of two first saves at once, the second updates the first's
            with db.session.begin_nested():
                db.session.add(ClaimChecklist(product_id=product.id, items=json.dumps(after), updated_at=now,
                                              updated_by_id=staff.id))
        except IntegrityError:
            row = own_checklist(product)
            row.items, row.updated_at, row.updated_by_id = json.dumps(after), now, staff.id
    db.session.flush()
    audit.record("claim.checklist_saved", staff=staff, object_type="product", object_id=product.id,
                 before={"claim_items": [checklist.label(key) for key in before]},
                 after={"claim_items": [checklist.label(key) for key in after]}, ip=ip)
    return True
