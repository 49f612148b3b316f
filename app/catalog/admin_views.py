"""产品 in the back office (运营): the list, a new draft, a draft's details, plans, documents and FAQ, the preview
(the public page itself, rendered for any state, with a banner), and the workflow: submit, recall, approve with
the time it goes on sale or send back (maker–checker), withdraw at a time, re-publish, reopen as a draft.
The rules are admin_products.py's; rate tables are admin_rates.py's pages."""
from dataclasses import dataclass, field

from flask import abort, redirect, render_template, request, url_for

from app.admin import audit, bp
from app.admin import auth as staff_auth
from app.admin.access import requires, section
from app.admin.models import AdminStaff
from app.catalog import admin_products, rates, services, views
from app.catalog.admin_forms import (
    ProductDocumentForm,
    ProductFaqForm,
    ProductFilterForm,
    ProductForm,
    ProductNoteForm,
    ProductPlanForm,
    ProductPublishForm,
    ProductWithdrawForm,
    SendBackForm,
)
from app.catalog.models import DOCUMENT_KINDS, FREQUENCIES, Product, RateRow, RateTable
from app.core.clock import db_now, today_local
from app.core.database import writes
from app.core.domain import DomainError
from app.core.htmx import render_page
from app.core.review import ReviewRefused
from app.extensions import db, shared_cache

section("产品", "admin.products", "products.edit", position=30, pages=(
    "admin.product_new", "admin.product_create", "admin.product", "admin.product_save", "admin.product_plan_new",
    "admin.product_plan_create", "admin.product_plan", "admin.product_plan_save", "admin.product_document",
    "admin.product_document_save", "admin.product_faqs", "admin.product_faqs_save", "admin.product_rates"))

# What the product page says after a change (?done=…).
DONE = {
    "created": "草稿已创建。请继续添加保障方案、条款与须知，完成后提交审核。", "saved": "产品信息已保存。",
    "unchanged": "没有需要保存的修改。", "plan": "保障方案已保存。", "plan_deleted": "保障方案已删除。",
    "document": "文件已保存。", "document_deleted": "文件已删除。", "faqs": "常见问题已保存。",
    "submitted": "已提交审核。审核期间不能修改；如需修改，可撤回提交。", "recalled": "已撤回提交，可以继续修改。",
    "approved": "已审核通过，产品将在设定的时间上架。", "sent_back": "已退回修改，提交人会在产品页看到原因。",
    "withdrawn": "已安排下架，到时公开页面不再展示该产品。", "republished": "已重新上架。",
    "reopened": "已转为草稿。修改后请重新提交审核，审核通过前产品不会上架。",
}


def _done(product, code):
    return redirect(url_for("admin.product", product_id=product.id, done=code))


def _names(*staff_ids):
    ids = [i for i in staff_ids if i]
    if not ids:
        return {}
    return dict(db.session.execute(db.select(AdminStaff.id, AdminStaff.display_name)
                                   .where(AdminStaff.id.in_(ids))).all())


# The list

@bp.get("/products")
@requires("products.edit")
def products():
    """Every product, any state, filtered by where it stands (htmx swaps the results)."""
    form = ProductFilterForm()
    form.validate()
    now = db_now()
    return render_page("admin/products/list.html", "results", staff=staff_auth.current_staff(), form=form,
                       products=admin_products.listing(form.state.data, now), now=now,
                       status_of=admin_products.sale_status)


# A new draft

def _product_form(**kwargs):
    categories, insurers = admin_products.categories_and_insurers()
    return ProductForm(**kwargs).set_choices(categories, insurers)


@bp.get("/products/new")
@requires("products.edit")
def product_new():
    form = _product_form(formdata=None, data={"payment_frequencies": ["annual"], "cooling_off_days": 15,
                                              "waiting_period_days": 0, "monthly_loading_permille": 1000})
    return render_template("admin/products/new.html", staff=staff_auth.current_staff(), form=form,
                           frequencies=FREQUENCIES)


@bp.post("/products/new")
@requires("products.edit")
@writes
def product_create():
    form = _product_form()
    if form.validate():
        try:
            product = admin_products.create_draft(staff_auth.current_staff(), form.values(), today=today_local(),
                                            now=db_now(), ip=staff_auth.client_ip())
        except DomainError as error:
            db.session.rollback()
            form[error.field or "name"].errors.append(error.message)
        else:
            db.session.commit()
            return _done(product, "created")
    return render_template("admin/products/new.html", staff=staff_auth.current_staff(), form=form,
                           frequencies=FREQUENCIES), 422


# The product page: details, plans, documents, FAQ, rate tables, the workflow, its history

def _details_data(product):
    return {"name": product.name, "slug": product.slug, "tagline": product.tagline,
            "category": str(product.category_id), "insurer": str(product.insurer_id), "age_min": product.age_min,
            "age_max": product.age_max, "coverage_period": product.coverage_period,
            "waiting_period_days": product.waiting_period_days, "cooling_off_days": product.cooling_off_days,
            "renewal": product.renewal, "highlights": product.highlights,
            "priced_by_gender": product.priced_by_gender,
            "priced_by_social_security": product.priced_by_social_security,
            "payment_frequencies": product.frequencies, "monthly_loading_permille": product.monthly_loading_permille}


def _render_product(product, status=200, *, form=None, message=None, error=None, **forms):
    now = db_now()
    staff = staff_auth.current_staff()
    in_force = rates.in_force(product.id, now)
    tables = rates.tables_of(product.id)
    return render_template(
        "admin/products/detail.html", staff=staff, product=product, now=now, message=message, error=error,
        status=admin_products.sale_status(product, now),
        form=form or _product_form(formdata=None, data=_details_data(product)),
        note_form=forms.get("note_form") or ProductNoteForm(formdata=None, prefix="note"),
        approve_form=forms.get("approve_form") or ProductPublishForm(formdata=None, prefix="approve"),
        send_back_form=forms.get("send_back_form") or SendBackForm(formdata=None, prefix="back"),
        withdraw_form=forms.get("withdraw_form") or ProductWithdrawForm(formdata=None, prefix="withdraw"),
        republish_form=forms.get("republish_form") or ProductPublishForm(formdata=None, prefix="republish"),
        frequencies=FREQUENCIES, documents={doc.kind: doc for doc in product.documents}, kinds=DOCUMENT_KINDS,
        missing=admin_products.missing_parts(product) if product.state == "draft" else [],
        in_force=in_force, gaps=admin_products.coverage_gaps(product, in_force) if in_force else [],
        waiting=sum(1 for t in tables if t.state == "pending"),
        sent_back=admin_products.last_sent_back(product) if product.state == "draft" else None,
        names=_names(product.prepared_by_id, product.reviewed_by_id),
        history=admin_products.history(product), actions=audit.ACTIONS), status


@bp.get("/products/<int:product_id>")
@requires("products.edit")
def product(product_id):
    return _render_product(db.get_or_404(Product, product_id), message=DONE.get(request.args.get("done", "")))


@bp.post("/products/<int:product_id>")
@requires("products.edit")
@writes
def product_save(product_id):
    product = db.get_or_404(Product, product_id)
    form = _product_form()
    if not form.validate():
        return _render_product(product, 422, form=form)
    try:
        changed = admin_products.update_details(staff_auth.current_staff(), product, form.values(), now=db_now(),
                                          ip=staff_auth.client_ip())
    except DomainError as error:
        db.session.rollback()
        if error.field:
            form[error.field].errors.append(error.message)
            return _render_product(db.get_or_404(Product, product_id), 422, form=form)
        return _render_product(db.get_or_404(Product, product_id), 409, form=form, error=error.message)
    db.session.commit()
    return _done(product, "saved" if changed else "unchanged")


# Plans and their coverage items

def _plan(product, plan_id):
    plan = next((p for p in product.plans if p.id == plan_id), None)
    if plan is None:
        abort(404)
    return plan


def _plan_data(plan):
    return {"code": plan.code, "name": plan.name, "description": plan.description, "sum_assured": plan.sum_assured_fen,
            "items": [{"name": item.name, "limit": item.limit_fen, "limit_text": item.limit_text,
                       "deductible": item.deductible_fen or None, "notes": item.notes} for item in plan.coverage_items]}


def _render_plan(product, plan, form, status=200, error=None):
    action = (url_for("admin.product_plan_save", product_id=product.id, plan_id=plan.id) if plan
              else url_for("admin.product_plan_create", product_id=product.id))
    return render_page("admin/products/plan.html", "items", status, staff=staff_auth.current_staff(), product=product,
                       plan=plan, form=form, action=action, error=error, editable=product.state == "draft",
                       priced=plan is not None and plan.id in _priced_plans(product))


def _priced_plans(product):
    return set(db.session.scalars(db.select(RateRow.plan_id).distinct().join(RateTable)
                                  .where(RateTable.product_id == product.id)).all())


def _adding_row(rows, limit):
    """The form's 添加一行 button: one more empty row (up to ``limit``), nothing saved."""
    if request.form.get("add") and len(rows) < limit:
        rows.append_entry()
    return bool(request.form.get("add"))


@bp.get("/products/<int:product_id>/plans/new")
@requires("products.edit")
def product_plan_new(product_id):
    return _render_plan(db.get_or_404(Product, product_id), None, ProductPlanForm(formdata=None))


@bp.post("/products/<int:product_id>/plans/new")
@requires("products.edit")
@writes
def product_plan_create(product_id):
    return _save_plan(db.get_or_404(Product, product_id), None)


@bp.get("/products/<int:product_id>/plans/<int:plan_id>")
@requires("products.edit")
def product_plan(product_id, plan_id):
    product = db.get_or_404(Product, product_id)
    plan = _plan(product, plan_id)
    return _render_plan(product, plan, ProductPlanForm(formdata=None, data=_plan_data(plan)))


@bp.post("/products/<int:product_id>/plans/<int:plan_id>")
@requires("products.edit")
@writes
def product_plan_save(product_id, plan_id):
    product = db.get_or_404(Product, product_id)
    return _save_plan(product, _plan(product, plan_id))


def _save_plan(product, plan):
    """Saves the plan; the form's 添加一项 button adds a row instead, its 删除这个方案 button deletes the plan."""
    form = ProductPlanForm()
    if plan is not None and request.form.get("delete"):
        return _delete_plan(product, plan, form)
    if _adding_row(form.items, ProductPlanForm.ROWS):
        return _render_plan(product, plan, form)
    if not form.validate():
        return _render_plan(product, plan, form, 422)
    try:
        admin_products.save_plan(staff_auth.current_staff(), product, plan, code=form.code.data, name=form.name.data,
                           description=form.description.data or "", sum_assured_fen=form.sum_assured.data,
                           coverage=form.coverage(), now=db_now(), ip=staff_auth.client_ip())
    except DomainError as error:
        db.session.rollback()
        product = db.get_or_404(Product, product.id)
        plan = _plan(product, plan.id) if plan is not None else None
        if error.field:
            form[error.field].errors.append(error.message)
            return _render_plan(product, plan, form, 422)
        return _render_plan(product, plan, form, 409, error=error.message)
    db.session.commit()
    return _done(product, "plan")


def _delete_plan(product, plan, form):
    try:
        admin_products.delete_plan(staff_auth.current_staff(), product, plan, now=db_now(), ip=staff_auth.client_ip())
    except DomainError as error:
        db.session.rollback()
        product = db.get_or_404(Product, product.id)
        plan = _plan(product, plan.id)
        return _render_plan(product, plan, ProductPlanForm(formdata=None, data=_plan_data(plan)), 409,
                            error=error.message)
    db.session.commit()
    return _done(product, "plan_deleted")


# Documents (Markdown) and the FAQ

def _kind(kind):
    if kind not in DOCUMENT_KINDS:
        abort(404)
    return kind


def _render_document(product, kind, form, status=200, error=None):
    document = next((d for d in product.documents if d.kind == kind), None)
    return render_template("admin/products/document.html", staff=staff_auth.current_staff(), product=product,
                           kind=kind, kinds=DOCUMENT_KINDS, document=document, form=form, error=error,
                           editable=product.state == "draft"), status


@bp.get("/products/<int:product_id>/documents/<document_kind>")
@requires("products.edit")
def product_document(product_id, document_kind):
    product, kind = db.get_or_404(Product, product_id), _kind(document_kind)
    document = next((d for d in product.documents if d.kind == kind), None)
    data = {"title": document.title, "body": document.body} if document else {"title": DOCUMENT_KINDS[kind]}
    return _render_document(product, kind, ProductDocumentForm(formdata=None, data=data))


@bp.post("/products/<int:product_id>/documents/<document_kind>")
@requires("products.edit")
@writes
def product_document_save(product_id, document_kind):
    product, kind = db.get_or_404(Product, product_id), _kind(document_kind)
    form = ProductDocumentForm()
    if request.form.get("delete"):  # the form's 删除这份文件 button
        return _delete_document(product, kind, form)
    if not form.validate():
        return _render_document(product, kind, form, 422)
    try:
        admin_products.save_document(staff_auth.current_staff(), product, kind, title=form.title.data, body=form.body.data,
                               now=db_now(), ip=staff_auth.client_ip())
    except DomainError as error:
        db.session.rollback()
        return _render_document(db.get_or_404(Product, product_id), kind, form, 409, error=error.message)
    db.session.commit()
    return _done(product, "document")


def _delete_document(product, kind, form):
    try:
        admin_products.delete_document(staff_auth.current_staff(), product, kind, now=db_now(),
                                       ip=staff_auth.client_ip())
    except DomainError as error:
        db.session.rollback()
        return _render_document(db.get_or_404(Product, product.id), kind, form, 409, error=error.message)
    db.session.commit()
    return _done(product, "document_deleted")


def _render_faqs(product, form, status=200, error=None):
    return render_page("admin/products/faqs.html", "rows", status, staff=staff_auth.current_staff(), product=product,
                       form=form, action=url_for("admin.product_faqs_save", product_id=product.id), error=error,
                       editable=product.state == "draft")


@bp.get("/products/<int:product_id>/faqs")
@requires("products.edit")
def product_faqs(product_id):
    product = db.get_or_404(Product, product_id)
    rows = [{"question": faq.question, "answer": faq.answer} for faq in product.faqs]
    return _render_faqs(product, ProductFaqForm(formdata=None, data={"rows": rows or [{}]}))


@bp.post("/products/<int:product_id>/faqs")
@requires("products.edit")
@writes
def product_faqs_save(product_id):
    product = db.get_or_404(Product, product_id)
    form = ProductFaqForm()
    if _adding_row(form.rows, ProductFaqForm.ROWS):
        return _render_faqs(product, form)
    if not form.validate():
        return _render_faqs(product, form, 422)
    try:
        admin_products.save_faqs(staff_auth.current_staff(), product, form.faqs(), now=db_now(), ip=staff_auth.client_ip())
    except DomainError as error:
        db.session.rollback()
        return _render_faqs(db.get_or_404(Product, product_id), form, 409, error=error.message)
    db.session.commit()
    return _done(product, "faqs")


# The preview: the public page itself, for a product in any state, never reachable from the public site

@dataclass
class Preview:
    """What catalog/views.py's product and document pages need to show a product that is not on sale: the banner's
    note, where its calculator and documents point, and the rate table it is priced with (None: the page says
    there is none)."""
    product_id: int
    table: RateTable | None
    notes: list = field(default_factory=list)

    @property
    def quote_url(self):
        return url_for("admin.product_preview_quote", product_id=self.product_id)

    def document_url(self, kind):
        return url_for("admin.product_preview_document", product_id=self.product_id, document_kind=kind)

    @property
    def product_url(self):
        return url_for("admin.product_preview", product_id=self.product_id)

    @property
    def back_url(self):
        return url_for("admin.product", product_id=self.product_id)


def _preview(product_id):
    """The product fully loaded as the public page reads it, and its Preview."""
    product = services.load_product(Product.id == product_id)
    if product is None:
        abort(404)
    now = db_now()
    table = product.rate_table_at(now)
    notes = []
    if table is None:
        notes.append("尚无生效的已审核费率表，保费测算暂不可用。")
    else:
        gaps = admin_products.coverage_gaps(product, table)
        if gaps:
            notes.append(f"生效的费率表没有覆盖全部投保人群（{'；'.join(gaps[:3])}），保费测算暂不可用。")
            table = None
    if not product.plans:
        notes.append("尚未添加保障方案。")
    return product, Preview(product.id, table, notes)


@bp.get("/products/<int:product_id>/preview")
@requires("products.edit")
def product_preview(product_id):
    product, preview = _preview(product_id)
    return views.product_page(product, preview)


@bp.post("/products/<int:product_id>/preview/quote")
@requires("products.edit")
def product_preview_quote(product_id):
    product, preview = _preview(product_id)
    return views.price_quote(product, preview)


@bp.get("/products/<int:product_id>/preview/documents/<document_kind>")
@requires("products.edit")
def product_preview_document(product_id, document_kind):
    product, preview = _preview(product_id)
    return views.document_page(product, document_kind, preview)


# The workflow

def _decide(product_id, action, form, form_name, done):
    """Runs one decision on the product with the form's values; a refusal is said on the page (409, or 422 on
    the form's field), a success goes back to the product page."""
    product = db.get_or_404(Product, product_id)
    if not form.validate():
        return _render_product(product, 422, **{form_name: form})
    try:
        action(product)
    except ReviewRefused as error:
        db.session.rollback()
        return _render_product(db.get_or_404(Product, product_id), 409, error=error.message, **{form_name: form})
    except DomainError as error:
        db.session.rollback()
        target = getattr(form, error.field, None) if error.field else None
        if target is not None:
            target.errors.append(error.message)
            return _render_product(db.get_or_404(Product, product_id), 422, **{form_name: form})
        return _render_product(db.get_or_404(Product, product_id), 409, error=error.message, **{form_name: form})
    db.session.commit()
    if done in ("approved", "withdrawn", "republished", "reopened"):
        shared_cache.clear()  # the catalog's loaded products and rendered lists (this process; others in seconds)
    return _done(product, done)


def _who():
    return {"now": db_now(), "ip": staff_auth.client_ip()}


@bp.post("/products/<int:product_id>/submit")
@requires("products.edit")
@writes
def product_submit(product_id):
    form = ProductNoteForm(prefix="note")
    return _decide(product_id, lambda p: admin_products.submit(staff_auth.current_staff(), p, note=form.note.data or "",
                                                         **_who()), form, "note_form", "submitted")


@bp.post("/products/<int:product_id>/recall")
@requires("products.edit")
@writes
def product_recall(product_id):
    form = ProductNoteForm(prefix="note")
    return _decide(product_id, lambda p: admin_products.recall(staff_auth.current_staff(), p, note=form.note.data or "",
                                                         **_who()), form, "note_form", "recalled")


@bp.post("/products/<int:product_id>/approve")
@requires("products.publish")
@writes
def product_approve(product_id):
    form = ProductPublishForm(prefix="approve")
    return _decide(product_id, lambda p: admin_products.approve(
        staff_auth.current_staff(), p, effective_at=form.effective_at.data, note=form.note.data or "", **_who()),
        form, "approve_form", "approved")


@bp.post("/products/<int:product_id>/send-back")
@requires("products.publish")
@writes
def product_send_back(product_id):
    form = SendBackForm(prefix="back")
    return _decide(product_id, lambda p: admin_products.send_back(staff_auth.current_staff(), p, reason=form.reason.data,
                                                            **_who()), form, "send_back_form", "sent_back")


@bp.post("/products/<int:product_id>/withdraw")
@requires("products.publish")
@writes
def product_withdraw(product_id):
    form = ProductWithdrawForm(prefix="withdraw")
    return _decide(product_id, lambda p: admin_products.withdraw(
        staff_auth.current_staff(), p, effective_at=form.effective_at.data, reason=form.reason.data, **_who()),
        form, "withdraw_form", "withdrawn")


@bp.post("/products/<int:product_id>/republish")
@requires("products.publish")
@writes
def product_republish(product_id):
    form = ProductPublishForm(prefix="republish")
    return _decide(product_id, lambda p: admin_products.republish(
        staff_auth.current_staff(), p, effective_at=form.effective_at.data, note=form.note.data or "", **_who()),
        form, "republish_form", "republished")


@bp.post("/products/<int:product_id>/reopen")
@requires("products.edit", "products.publish")
@writes
def product_reopen(product_id):
    form = ProductNoteForm(prefix="note")
    return _decide(product_id, lambda p: admin_products.reopen(staff_auth.current_staff(), p, note=form.note.data or "",
                                                         **_who()), form, "note_form", "reopened")
