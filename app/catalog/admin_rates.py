"""费率表 in the back office (运营): a product's tables (in force, scheduled, waiting, decided), importing a new
one from a file, its comparison with the table in force, and approval by a second person with the time it
takes effect."""
from flask import Response, redirect, render_template, request, url_for

from app.admin import audit, bp
from app.admin import auth as staff_auth
from app.admin.access import requires
from app.admin.forms import ReasonForm
from app.admin.models import AdminStaff
from app.catalog import rates
from app.catalog.forms import RateApproveForm, RateImportForm
from app.catalog.models import RATE_TABLE_STATES, Product, RateTable
from app.core.clock import db_now, format_local
from app.core.database import writes
from app.core.domain import DomainError
from app.core.review import ReviewRefused
from app.extensions import db, shared_cache

audit.register(
    actions={"rate_table.imported": "导入费率表", "rate_table.approved": "审核通过费率表",
             "rate_table.rejected": "退回费率表", "rate_table.withdrawn": "撤回费率表"},
    object_types={"rate_table": "费率表"},
    field_labels={"product": "产品", "file": "文件", "rows": "费率行数", "price_from": "最低年缴保费",
                  "state": "状态", "effective_at": "生效时间", "changed": "调整行数", "note": "说明"},
    value_labels={"state": RATE_TABLE_STATES},
)


def _names(*staff_ids):
    ids = [i for i in staff_ids if i]
    rows = db.session.execute(db.select(AdminStaff.id, AdminStaff.display_name).where(AdminStaff.id.in_(ids)))
    return dict(rows.all())


def _render_product(product, form=None, problems=(), status=200):
    now = db_now()
    tables = rates.tables_of(product.id)
    current = rates.in_force(product.id, now)
    return render_template(
        "admin/rates/product.html", staff=staff_auth.current_staff(), product=product, tables=tables,
        current=current, now=now, form=form or RateImportForm(formdata=None), problems=problems,
        names=_names(*(t.prepared_by_id for t in tables), *(t.reviewed_by_id for t in tables)),
        states=RATE_TABLE_STATES), status


@bp.get("/products/<int:product_id>/rates")
@requires("products.edit")
def product_rates(product_id):
    return _render_product(db.get_or_404(Product, product_id))


@bp.get("/products/<int:product_id>/rates.csv")
@requires("products.edit")
def product_rates_template(product_id):
    """The table in force (or a blank one) in the import format: what the next import starts from."""
    product = db.get_or_404(Product, product_id)
    body = rates.csv_of(product, rates.in_force(product.id, db_now()), rates.plans_of(product))
    filename = f"{product.slug}-rates.csv"
    return Response("\ufeff" + body, mimetype="text/csv",  # the BOM: Excel opens it as UTF-8
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/products/<int:product_id>/rates")
@requires("products.edit")
@writes
def product_rates_import(product_id):
    product = db.get_or_404(Product, product_id)
    form = RateImportForm()
    if not form.validate():
        return _render_product(product, form, status=422)
    upload = form.file.data
    content = upload.read(rates.MAX_BYTES + 1)
    staff = staff_auth.current_staff()
    try:
        table = rates.import_table(product, staff, filename=upload.filename, content=content,
                                   note=form.note.data, now=db_now())
    except rates.RateFileError as error:
        db.session.rollback()
        form.file.errors.append("文件未导入，请按下列提示修改后重新导入")
        return _render_product(product, form, error.problems, status=422)
    audit.record("rate_table.imported", staff=staff, object_type="rate_table", object_id=table.id,
                 after={"product": product.slug, "file": table.source_name, "rows": len(table.rows),
                        "price_from": table.price_from_fen, "state": table.state, "note": table.note},
                 ip=staff_auth.client_ip())
    db.session.commit()
    return redirect(url_for("admin.rate_table", table_id=table.id, done="imported"))


MESSAGES = {"imported": "费率表已导入，等待另一位同事审核", "approved": "费率表已审核通过",
            "rejected": "费率表已退回", "withdrawn": "费率表已撤回"}


def _render_table(table, status=200, approve_form=None, reject_form=None, message=None, refused=None):
    now = db_now()
    product = db.session.get(Product, table.product_id)
    plans = rates.plans_of(product)
    current = rates.in_force(product.id, now)
    against = current if current is not None and current.id != table.id else None
    staff = staff_auth.current_staff()
    return render_template(
        "admin/rates/table.html", staff=staff, product=product, table=table, plans=plans, current=current,
        diff=rates.diff(plans, against.rows if against else [], table.rows), against=against, now=now,
        message=message, refused=refused, states=RATE_TABLE_STATES, names=_names(table.prepared_by_id, table.reviewed_by_id),
        own=table.prepared_by_id == staff.id,
        approve_form=approve_form or RateApproveForm(formdata=None, data={"effective_at": now}),
        reject_form=reject_form or ReasonForm(formdata=None, prefix="reject")), status


@bp.get("/rates/<int:table_id>")
@requires("products.edit")
def rate_table(table_id):
    return _render_table(db.get_or_404(RateTable, table_id), message=MESSAGES.get(request.args.get("done")))


def _decided(action, table, staff, before, **after):
    audit.record(action, staff=staff, object_type="rate_table", object_id=table.id,
                 before={"state": before}, after={"state": table.state, **after}, reason=table.review_note
                 if action == "rate_table.rejected" else "", ip=staff_auth.client_ip())
    db.session.commit()
    if table.state == "approved":
        shared_cache.clear()  # once committed: this process shows it at once, the others within PAGE_CACHE_SECONDS


def _review(table_id, form, field, form_name, decide, action, done, audited=lambda table: {}):
    """Approve or send back: the form checked, ``decide(table, staff, form)`` (maker–checker and a race lost
    are said on the page), the audit row, and back to the table."""
    table = db.get_or_404(RateTable, table_id)
    staff = staff_auth.current_staff()
    if form.validate():
        try:
            decide(table, staff, form)
        except ReviewRefused as error:
            db.session.rollback()
            return _render_table(db.get_or_404(RateTable, table_id), 422, refused=error.message)
        except DomainError as error:
            db.session.rollback()
            field.errors.append(error.message)
        else:
            _decided(action, table, staff, "pending", **audited(table))
            return redirect(url_for("admin.rate_table", table_id=table.id, done=done))
    return _render_table(db.get_or_404(RateTable, table_id), 422, **{form_name: form})


@bp.post("/rates/<int:table_id>/approve")
@requires("products.publish")
@writes
def rate_table_approve(table_id):
    form = RateApproveForm()
    return _review(table_id, form, form.effective_at, "approve_form",
                   lambda table, staff, form: rates.approve(table, staff, effective_at=form.effective_at.data,
                                                            now=db_now()),
                   "rate_table.approved", "approved", lambda table: {"effective_at": format_local(table.effective_at)})


@bp.post("/rates/<int:table_id>/reject")
@requires("products.publish")
@writes
def rate_table_reject(table_id):
    form = ReasonForm(prefix="reject")
    return _review(table_id, form, form.reason, "reject_form",
                   lambda table, staff, form: rates.reject(table, staff, reason=form.reason.data, now=db_now()),
                   "rate_table.rejected", "rejected")


@bp.post("/rates/<int:table_id>/withdraw")
@requires("products.edit")
@writes
def rate_table_withdraw(table_id):
    """The preparer takes a table back before anyone decides (CSRF checked for every POST by CSRFProtect)."""
    table = db.get_or_404(RateTable, table_id)
    staff = staff_auth.current_staff()
    try:
        rates.withdraw(table, staff, now=db_now())
    except DomainError as error:
        db.session.rollback()
        return _render_table(db.get_or_404(RateTable, table_id), 422, refused=error.message)
    _decided("rate_table.withdrawn", table, staff, "pending")
    return redirect(url_for("admin.rate_table", table_id=table.id, done="withdrawn"))
