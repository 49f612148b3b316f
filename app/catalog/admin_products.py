"""Products as 运营 prepare and publish them in the back office.

A product is a draft while it is prepared (its details, plans with their coverage items, documents, FAQ), is
submitted for approval (pending: locked; its preparer may recall it), and is approved by another staff member
with products.publish (maker–checker: core/review.py) with the time it goes on sale, or sent back with a reason.
An approved product is withdrawn from sale at a time and may be re-published. It is never edited while approved:
its content is what was reviewed. To change it, it is taken off sale first (or, before it ever went on sale,
its approval is undone), edited as a draft and approved again; nothing reaches the public page unreviewed.

A product is on sale between ``published_at`` and ``withdrawn_at`` whatever its state (Product.on_sale), so the
rule kept here is: outside ``approved``, it is not on sale at any time from now on.

Every change writes its audit row (the product's own fields, never personal data; document bodies by length).
Flushes only; the view commits (and clears the shared catalog cache after a change of what is on sale).
"""
import hashlib

from sqlalchemy import exists, select, update
from sqlalchemy.orm import contains_eager

from app.admin import audit
from app.admin.models import AuditEvent
from app.catalog import rates
from app.catalog.models import (
    DOCUMENT_KINDS,
    FREQUENCIES,
    GENDERS,
    PRODUCT_STATES,
    Category,
    CoverageItem,
    Document,
    Faq,
    Insurer,
    Plan,
    Product,
    RateRow,
    RateTable,
)
from app.catalog.services import refresh_prices
from app.core.clock import format_local
from app.core.domain import DomainError
from app.core.review import check_reviewer
from app.extensions import db

REQUIRED_DOCUMENTS = ("clauses", "notice")

audit.register(
    actions={
        "product.created": "新建产品草稿",
        "product.edited": "修改产品信息",
        "product.plan_added": "添加保障方案",
        "product.plan_edited": "修改保障方案",
        "product.plan_deleted": "删除保障方案",
        "product.document_saved": "保存产品文件",
        "product.document_deleted": "删除产品文件",
        "product.faqs_saved": "保存常见问题",
        "product.submitted": "提交产品审核",
        "product.recalled": "撤回产品审核",
        "product.approved": "审核通过产品并定时上架",
        "product.sent_back": "退回产品修改",
        "product.withdrawn": "产品下架",
        "product.republished": "产品重新上架",
        "product.reopened": "产品转为草稿修改",
    },
    object_types={"product": "产品"},
    field_labels={
        "name": "名称", "slug": "网址名", "tagline": "介绍", "category": "险种", "insurer": "承保公司",
        "age_min": "最低年龄", "age_max": "最高年龄", "coverage_period": "保障期限", "waiting_period_days": "等待期（天）",
        "cooling_off_days": "犹豫期（天）", "renewal": "续保条件", "highlights": "亮点", "priced_by_gender": "按性别定价",
        "priced_by_social_security": "按社保定价", "payment_frequencies": "缴费方式",
        "monthly_loading_permille": "月缴系数（‰）", "state": "状态", "published_at": "上架时间",
        "withdrawn_at": "下架时间", "plan": "方案", "plan_name": "方案名称", "description": "方案说明",
        "sum_assured": "保额", "coverage": "保障责任", "document": "文件", "title": "标题", "body": "正文",
        "faqs": "常见问题",
    },
    value_labels={"state": PRODUCT_STATES, "document": DOCUMENT_KINDS},
)


class ProductError(DomainError):
    """An edit or a decision the product's state or content does not allow (409, or 422 on a field)."""


def categories_and_insurers():
    return Category.ordered(), db.session.scalars(select(Insurer).order_by(Insurer.name)).all()


def get(product_id):
    return db.session.get(Product, product_id)


# What a product is, for lists and pages

def sale_status(product, now):
    """(code, label) of where the product stands: draft, pending, on_sale, scheduled, withdrawing, withdrawn."""
    if product.state == "draft":
        return "draft", "草稿"
    if product.state == "pending":
        return "pending", "待审核"
    if product.withdrawn_at is not None and product.withdrawn_at <= now:
        return "withdrawn", "已下架"
    if product.published_at is not None and product.published_at > now:
        return "scheduled", f"待上架（{format_local(product.published_at)}）"
    if product.withdrawn_at is not None:
        return "withdrawing", f"在售，将于 {format_local(product.withdrawn_at)} 下架"
    return "on_sale", "在售"


def listing(state, now):
    """Every product (any state), newest first, optionally only those in one of ProductFilterForm.STATES."""
    query = (select(Product).join(Product.category).join(Product.insurer)
             .options(contains_eager(Product.category), contains_eager(Product.insurer)).order_by(Product.id.desc()))
    if state in ("draft", "pending"):
        query = query.where(Product.state == state)
    elif state == "on_sale":
        query = query.where(Product.state == "approved", Product.on_sale(now))
    elif state == "scheduled":
        query = query.where(Product.state == "approved", Product.published_at > now)
    elif state == "withdrawn":
        query = query.where(Product.state == "approved", Product.withdrawn_at <= now)
    return db.session.scalars(query).all()


def history(product, limit=30):
    """The product's audit rows, newest first."""
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "product", AuditEvent.object_id == str(product.id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all()


def last_sent_back(product):
    """The reason the product was last sent back, if that is the latest decision on it (for its preparer)."""
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "product", AuditEvent.object_id == str(product.id),
        AuditEvent.action.in_(("product.sent_back", "product.submitted", "product.approved")))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)).first()
    return event if event is not None and event.action == "product.sent_back" else None


def missing_parts(product):
    """What a draft still lacks before it can be submitted (messages)."""
    missing = []
    if not product.plans:
        missing.append("至少一个保障方案")
    missing += [f"保障方案“{plan.name}”的保障责任" for plan in product.plans if not plan.coverage_items]
    kinds = {doc.kind for doc in product.documents}
    missing += [f"《{DOCUMENT_KINDS[kind]}》" for kind in REQUIRED_DOCUMENTS if kind not in kinds]
    return missing


def coverage_gaps(product, table):
    """What ``table`` does not price among the insured the product accepts: every plan × gender × 社保 (where the
    product is priced by them) over its whole age range. [] when the table covers the product."""
    if table is None:
        return ["没有生效的费率表"]
    gaps = []
    genders = list(GENDERS) if product.priced_by_gender else [None]
    socials = [True, False] if product.priced_by_social_security else [None]
    for plan in product.plans:
        rows = table.rows_of(plan)
        for gender in genders:
            for social in socials:
                ages = {age for row in rows if row.gender == gender and row.social_security == social
                        for age in range(row.age_min, row.age_max + 1)}
                uncovered = [age for age in range(product.age_min, product.age_max + 1) if age not in ages]
                if uncovered:
                    who = " · ".join(filter(None, [GENDERS.get(gender) if gender else None,
                                                   {True: "有社保", False: "无社保"}.get(social)]))
                    gaps.append(f"{plan.name}{'（' + who + '）' if who else ''}缺少 {_ages(uncovered)} 周岁")
    return gaps


def _ages(ages):
    runs, start = [], ages[0]
    for previous, age in zip(ages, [*ages[1:], None]):
        if age != previous + 1:
            runs.append(f"{start}–{previous}" if start != previous else str(start))
            start = age
    return "、".join(runs)


def _priced_at(product, at):
    """Refuses a product whose prices at ``at`` are not settled: an approved rate table in force then that covers
    every insured person it accepts."""
    table = rates.in_force(product.id, at)
    if table is None:
        pending = db.session.scalar(select(exists().where(RateTable.product_id == product.id,
                                                          RateTable.state == "pending")))
        raise ProductError(
            f"该产品在 {format_local(at)} 没有已审核的费率表，不能上架。"
            + ("它的费率表还在等待审核，请先审核费率表。" if pending else "请先导入费率表，并由另一位同事审核通过。"),
            "effective_at")
    gaps = coverage_gaps(product, table)
    if gaps:
        raise ProductError(f"{format_local(at)} 生效的费率表没有覆盖本产品的全部投保人群：{'；'.join(gaps[:5])}。"
                           "请导入覆盖完整的费率表并审核后再上架。", "effective_at")


# Facts for the audit log

def _facts(product):
    return {"name": product.name, "slug": product.slug, "tagline": product.tagline,
            "category": db.session.get(Category, product.category_id).name,
            "insurer": db.session.get(Insurer, product.insurer_id).short_name, "age_min": product.age_min,
            "age_max": product.age_max, "coverage_period": product.coverage_period,
            "waiting_period_days": product.waiting_period_days, "cooling_off_days": product.cooling_off_days,
            "renewal": product.renewal, "highlights": product.highlights,
            "priced_by_gender": product.priced_by_gender, "priced_by_social_security": product.priced_by_social_security,
            "payment_frequencies": [FREQUENCIES[f] for f in product.payment_frequencies.split(",") if f in FREQUENCIES],
            "monthly_loading_permille": product.monthly_loading_permille}


def _plan_facts(plan):
    return {"plan": plan.code, "plan_name": plan.name, "description": plan.description,
            "sum_assured": plan.sum_assured_fen / 100,
            "coverage": [f"{item.name} {item.limit_text or (item.limit_fen or 0) / 100}" for item in plan.coverage_items]}


def _when(value):
    return format_local(value) if value else None


def _record(action, actor, product, *, before=None, after=None, reason="", now, ip):
    audit.record(action, staff=actor, object_type="product", object_id=product.id, before=before, after=after,
                 reason=reason, ip=ip, now=now)


# Editing a draft

def _slug_taken(slug, product_id=None):
    query = select(Product.id).where(Product.slug == slug)
    if product_id is not None:
        query = query.where(Product.id != product_id)
    return db.session.scalar(query) is not None


def _check_references(values):
    if db.session.get(Category, values["category_id"]) is None:
        raise ProductError("请选择险种", "category")
    if db.session.get(Insurer, values["insurer_id"]) is None:
        raise ProductError("请选择承保公司", "insurer")


def create_draft(actor, values, *, today, now, ip):
    """A new draft from ProductForm.values()."""
    _check_references(values)
    if _slug_taken(values["slug"]):
        raise ProductError("该网址名已被其他产品使用", "slug")
    product = Product(**values, state="draft", launched_on=today, is_demo=False, price_from_fen=0)
    db.session.add(product)
    db.session.flush()
    _record("product.created", actor, product, after=_facts(product), now=now, ip=ip)
    return product


def _lock_draft(product):
    """The product is a draft, checked with a conditional UPDATE that holds its row until commit (a submission
    racing an edit waits for it, then finds what the edit saved)."""
    changed = db.session.execute(update(Product).where(Product.id == product.id, Product.state == "draft")
                                 .values(state="draft")).rowcount
    if not changed:
        raise ProductError("只有草稿可以修改：待审核的产品请提交人先撤回，已审核的产品须先下架再转为草稿。")


def update_details(actor, product, values, *, now, ip):
    """Saves ProductForm.values() on a draft; returns whether anything changed. The 网址名 of a product that has
    been on sale stays (links and QR codes point to it)."""
    _lock_draft(product)
    _check_references(values)
    if values["slug"] != product.slug:
        if product.published_at is not None:
            raise ProductError("该产品上架过，网址名不能再修改（已有的链接和二维码指向它）", "slug")
        if _slug_taken(values["slug"], product.id):
            raise ProductError("该网址名已被其他产品使用", "slug")
    before = _facts(product)
    for key, value in values.items():
        setattr(product, key, value)
    db.session.flush()
    before, after = audit.changes(before, _facts(product))
    if after:
        _record("product.edited", actor, product, before=before, after=after, now=now, ip=ip)
    return bool(after)


def _has_rates(plan):
    return db.session.scalar(select(exists().where(RateRow.plan_id == plan.id)))


def save_plan(actor, product, plan, *, code, name, description, sum_assured_fen, coverage, now, ip):
    """Adds a plan (``plan`` None) or changes one, its coverage items replaced by ``coverage`` (dicts of
    CoverageItem's fields, in order). A plan that rate tables price keeps its code."""
    _lock_draft(product)
    others = [p for p in product.plans if p is not plan]
    if any(p.code == code for p in others):
        raise ProductError("本产品已有这个方案代码", "code")
    if plan is not None and code != plan.code and _has_rates(plan):
        raise ProductError("费率表已按这个方案代码定价，不能修改", "code")
    before = _plan_facts(plan) if plan is not None else None
    if plan is None:
        plan = Plan(code=code, position=max((p.position for p in others), default=-1) + 1)
        product.plans.append(plan)
    plan.code, plan.name, plan.description, plan.sum_assured_fen = code, name, description, sum_assured_fen
    plan.coverage_items = [CoverageItem(position=i, **item) for i, item in enumerate(coverage)]
    db.session.flush()
    if before is None:
        _record("product.plan_added", actor, product, after=_plan_facts(plan), now=now, ip=ip)
    else:
        before, after = audit.changes(before, _plan_facts(plan))
        if after:
            _record("product.plan_edited", actor, product, before={"plan": plan.code, **before},
                    after={"plan": plan.code, **after}, now=now, ip=ip)
    return plan


def delete_plan(actor, product, plan, *, now, ip):
    _lock_draft(product)
    if _has_rates(plan):
        raise ProductError("费率表已为这个方案定价，不能删除；如不再销售，请在新的费率表和方案中调整后重新审核")
    before = _plan_facts(plan)
    product.plans.remove(plan)
    db.session.flush()
    _record("product.plan_deleted", actor, product, before=before, now=now, ip=ip)


def _document_facts(document):
    """The body by its length and a short digest: the log says that it changed, the page says how."""
    digest = hashlib.sha256(document.body.encode()).hexdigest()[:8]
    return {"document": document.kind, "title": document.title, "body": f"{len(document.body)}字（{digest}）"}


def save_document(actor, product, kind, *, title, body, now, ip):
    """Writes the product's document of ``kind`` (a key of DOCUMENT_KINDS; body in Markdown)."""
    _lock_draft(product)
    document = next((d for d in product.documents if d.kind == kind), None)
    before = _document_facts(document) if document is not None else None
    if document is None:
        document = Document(kind=kind, title=title, body=body)
        product.documents.append(document)
    document.title, document.body = title, body
    db.session.flush()
    after = _document_facts(document)
    if before is None or before != after:
        _record("product.document_saved", actor, product, before=before, after=after, now=now, ip=ip)


def delete_document(actor, product, kind, *, now, ip):
    _lock_draft(product)
    document = next((d for d in product.documents if d.kind == kind), None)
    if document is None:
        return
    before = _document_facts(document)
    product.documents.remove(document)
    db.session.flush()
    _record("product.document_deleted", actor, product, before=before, now=now, ip=ip)


def save_faqs(actor, product, faqs, *, now, ip):
    """Replaces the FAQ with ``faqs`` (dicts of question and answer, in order)."""
    _lock_draft(product)
    before = [faq.question for faq in product.faqs]
    answers = [faq.answer for faq in product.faqs]
    product.faqs = [Faq(position=i, question=f["question"], answer=f["answer"]) for i, f in enumerate(faqs)]
    db.session.flush()
    after = [faq["question"] for faq in faqs]
    if before != after or answers != [faq["answer"] for faq in faqs]:
        _record("product.faqs_saved", actor, product, before={"faqs": before}, after={"faqs": after}, now=now, ip=ip)


# The workflow

def _transition(product, where, **values):
    """A conditional UPDATE of the product's row: False when another request changed it first."""
    changed = db.session.execute(update(Product).where(Product.id == product.id, *where).values(**values)).rowcount
    return bool(changed)


def submit(actor, product, *, note, now, ip):
    """Draft → pending: locked until approved, sent back or recalled. The submitter is its preparer."""
    missing = missing_parts(product)
    if missing:
        raise ProductError(f"提交前还需要补充：{'、'.join(missing)}")
    if not _transition(product, [Product.state == "draft"], state="pending", prepared_by_id=actor.id,
                       submitted_at=now, reviewed_by_id=None, reviewed_at=None):
        raise ProductError("该产品已不是草稿（可能刚被同事提交），请刷新页面查看")
    _record("product.submitted", actor, product, before={"state": "draft"}, after={"state": "pending"},
            reason=note, now=now, ip=ip)


def recall(actor, product, *, note, now, ip):
    """Pending → draft, by the one who submitted it."""
    if product.state == "pending" and product.prepared_by_id != actor.id:
        raise ProductError("只有提交人可以撤回提交；如需修改，请审核人退回")
    if not _transition(product, [Product.state == "pending", Product.prepared_by_id == actor.id], state="draft",
                       submitted_at=None):
        raise ProductError("该产品已不在待审核状态（可能刚被审核），请刷新页面查看")
    _record("product.recalled", actor, product, before={"state": "pending"}, after={"state": "draft"},
            reason=note, now=now, ip=ip)


def _effective(at, now, what):
    if at is None:
        return now
    if at < now.replace(second=0, microsecond=0):
        raise ProductError(f"{what}不能早于现在（{format_local(now)}）", "effective_at")
    return max(at, now)


def approve(actor, product, *, effective_at, note, now, ip):
    """Pending → approved by someone other than its preparer, on sale from ``effective_at`` (naive UTC; None:
    now), which needs an approved rate table in force then that covers the product."""
    check_reviewer(product.prepared_by_id, actor)
    if product.state != "pending":
        raise ProductError("该产品不在待审核状态，请刷新页面查看")
    at = _effective(effective_at, now, "上架时间")
    _priced_at(product, at)
    if not _transition(product, [Product.state == "pending", Product.prepared_by_id == product.prepared_by_id],
                       state="approved", reviewed_by_id=actor.id, reviewed_at=now, published_at=at,
                       withdrawn_at=None):
        raise ProductError("该产品已不在待审核状态（可能刚被撤回或已被审核），请刷新页面查看")
    refresh_prices(now, [product.id])
    _record("product.approved", actor, product, before={"state": "pending"},
            after={"state": "approved", "published_at": _when(at)}, reason=note, now=now, ip=ip)


def send_back(actor, product, *, reason, now, ip):
    """Pending → draft with the reason, by someone other than its preparer (who recalls instead)."""
    check_reviewer(product.prepared_by_id, actor)
    if not _transition(product, [Product.state == "pending", Product.prepared_by_id == product.prepared_by_id],
                       state="draft", submitted_at=None):
        raise ProductError("该产品已不在待审核状态（可能刚被撤回或已被审核），请刷新页面查看")
    _record("product.sent_back", actor, product, before={"state": "pending"}, after={"state": "draft"},
            reason=reason, now=now, ip=ip)


def withdraw(actor, product, *, effective_at, reason, now, ip):
    """An approved product off sale from ``effective_at`` (None: now): the public pages 404 from then on."""
    if product.state != "approved" or (product.withdrawn_at is not None and product.withdrawn_at <= now):
        raise ProductError("只有在售或待上架的产品可以下架")
    at = _effective(effective_at, now, "下架时间")
    before = {"withdrawn_at": _when(product.withdrawn_at)}
    if not _transition(product, [Product.state == "approved", Product.withdrawn_at == product.withdrawn_at]
                       if product.withdrawn_at is not None else
                       [Product.state == "approved", Product.withdrawn_at.is_(None)], withdrawn_at=at):
        raise ProductError("该产品刚被同事修改过，请刷新页面查看")
    _record("product.withdrawn", actor, product, before=before, after={"withdrawn_at": _when(at)}, reason=reason,
            now=now, ip=ip)


def republish(actor, product, *, effective_at, note, now, ip):
    """An approved product withdrawn (or about to be) on sale again: a withdrawal still to come is cancelled; a
    product already off sale is on sale again from ``effective_at`` (None: now), priced by an approved rate table
    in force then. Its content is what was approved: republishing changes only when it is on sale."""
    if product.state != "approved" or product.withdrawn_at is None:
        raise ProductError("只有已下架或已安排下架的产品可以重新上架")
    before = {"published_at": _when(product.published_at), "withdrawn_at": _when(product.withdrawn_at)}
    if product.withdrawn_at > now:
        at = product.published_at
    else:
        at = _effective(effective_at, now, "上架时间")
        _priced_at(product, at)
    if not _transition(product, [Product.state == "approved", Product.withdrawn_at == product.withdrawn_at],
                       published_at=at, withdrawn_at=None):
        raise ProductError("该产品刚被同事修改过，请刷新页面查看")
    refresh_prices(now, [product.id])
    _record("product.republished", actor, product, before=before,
            after={"published_at": _when(at), "withdrawn_at": None}, reason=note, now=now, ip=ip)


def reopen(actor, product, *, note, now, ip):
    """An approved product back to a draft to be changed and approved again: only once it is off sale (withdrawn
    and past its withdrawal time), or before it ever went on sale (its approval undone)."""
    if product.state != "approved":
        raise ProductError("只有已审核的产品可以转为草稿")
    if product.is_on_sale(now) or (product.withdrawn_at is not None and product.withdrawn_at > now):
        raise ProductError("在售的产品不能直接修改：请先下架，下架生效后再转为草稿，修改后重新提交审核")
    before = {"state": "approved", "published_at": _when(product.published_at),
              "withdrawn_at": _when(product.withdrawn_at)}
    never_sold = product.published_at > now and product.withdrawn_at is None
    values = {"state": "draft", "submitted_at": None}
    if never_sold:  # it would go on sale at that time, whatever its state: the time goes with the approval
        values.update(published_at=None)
    if not _transition(product, [Product.state == "approved", Product.published_at == product.published_at],
                       **values):
        raise ProductError("该产品刚被同事修改过，请刷新页面查看")
    _record("product.reopened", actor, product, before=before,
            after={"state": "draft", "published_at": _when(product.published_at)}, reason=note, now=now, ip=ip)

