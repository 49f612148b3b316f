"""The car-insurance quote, and the application (投保单) step by step."""
from flask import (
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app.agreements.gate import SESSION_KEY, consent_required
from app.auth.forms import ActionForm
from app.catalog import services as catalog
from app.core.clock import db_now, today_local
from app.core.database import begin_write, writes
from app.core.forms import choices, field_named
from app.core.htmx import render_page
from app.core.parts import register
from app.extensions import db, limiter
from app.orders import services as orders
from app.purchase import applications, bp, car_quotes
from app.purchase.car import quote
from app.purchase.forms import (
    ApplicantForm,
    BeneficiaryForm,
    CarQuoteForm,
    ConfirmForm,
    InsuredForm,
    PlanForm,
)
from app.purchase.models import STEPS


@bp.get("/car")
def car():
    """The car quote form; a signed-in user finds their last quote again (it is a breakpoint too)."""
    saved = car_quotes.load(current_user) if current_user.is_authenticated else None
    if saved:
        form = CarQuoteForm(formdata=MultiDict(saved), meta={"csrf": False})  # checked, not posted
        if form.validate():
            return render_page("purchase/car.html", "car", form=form, result=quote(**form.pricing_args()),
                               resumed=True)
    return render_page("purchase/car.html", "car", form=CarQuoteForm(formdata=None), result=None)


@bp.post("/car")
@limiter.limit(lambda: current_app.config["RATELIMIT_QUOTE"])
@writes
def car_quote():
    """Price the car: the form and the quote block for htmx, the whole page without JavaScript."""
    form = CarQuoteForm()
    if not form.validate():
        return render_page("purchase/car.html", "car", 422, form=form, result=None)
    if current_user.is_authenticated and current_user.reminders_enabled:
        car_quotes.save(current_user, form.saved_values(), db_now())
        db.session.commit()
    return render_page("purchase/car.html", "car", form=form, result=quote(**form.pricing_args()))


# The application (投保单)

def _product_or_404(slug):
    product = catalog.get_product(slug)
    if product is None:
        abort(404)
    return product


def _application_or_404(product, number):
    application = applications.find(current_user, number)
    if application is None or application.product_id != product.id:
        abort(404)
    return application


@bp.get("/buy/<slug:slug>")
@login_required
@consent_required
@writes
def buy(slug):
    """Start an application for the product, or resume the unfinished one where it was left (one
    already confirmed: its payment)."""
    product = _product_or_404(slug)
    submitted = applications.awaiting_payment(current_user, product.id)
    if submitted is not None:
        return redirect(url_for("purchase.done", slug=slug, number=submitted.number))
    application = applications.start_or_resume(current_user, product, today_local(), db_now())
    db.session.commit()
    return redirect(url_for("purchase.step", slug=slug, number=application.number, step=application.step))


# The steps, as a table: each step's form (filled from the saved breakpoint, or from what was posted) and
# how it is saved. A save returns where to go next, or None for the next step; ApplicationError refuses.

def _plan_form(product, application, formdata):
    data = {"plan": application.plan_code, "frequency": application.frequency}
    return PlanForm(formdata=formdata, data=data).for_product(product)


def _save_plan(product, application, form, today, now):
    applications.save_plan(application, product, plan_code=form.plan.data, frequency=form.frequency.data,
                           today=today, now=now)


def _applicant_form(product, application, formdata):
    saved = application.details.get("applicant") or {}
    address = saved.get("address") or {}
    data = {**saved, **{k: address.get(k) for k in ("province", "city", "district")},
            "address": address.get("detail")}
    if current_user.id_number:  # the locked real-name identity, whatever was sent
        data.update(name=current_user.real_name, id_number=current_user.id_number)
        if formdata is not None:
            formdata = formdata.copy()
            formdata["name"], formdata["id_number"] = current_user.real_name, current_user.id_number
    return ApplicantForm(formdata=formdata, data=data)


def _save_applicant(product, application, form, today, now):
    if applications.correct_birth_date(current_user, form.id_number.data):
        db.session.commit()  # kept even if this step is refused: the consents depend on it
        session.pop(SESSION_KEY, None)  # the gate looks again on the next page
        begin_write()
        application = _application_or_404(product, application.number)
    applications.save_applicant(application, current_user, name=form.name.data, id_number=form.id_number.data,
                                mobile=form.mobile.data, email=form.email.data, province=form.province.data,
                                city=form.city.data, district=form.district.data, address=form.address.data,
                                today=today, now=now)


def _insured_form(product, application, formdata):
    saved = application.details.get("insured") or {}
    data = {**saved, "social_security": "no" if saved.get("social_security") is False else "yes"}
    form = InsuredForm(formdata=formdata, data=data)
    form.relation.choices = choices(applications.RELATIONS.items())
    return form


def _save_insured(product, application, form, today, now):
    notice = applications.save_insured(application, product, relation=form.relation.data, name=form.name.data,
                                       id_number=form.id_number.data,
                                       social_security=form.social_security.data != "no", today=today, now=now)
    if notice:
        return url_for("purchase.step", slug=product.slug, number=application.number, step=4, notice=notice)
    return None


def _beneficiaries_form(product, application, formdata):
    saved = application.details.get("beneficiaries") or {"statutory": True, "people": []}
    data = {"kind": "statutory" if saved["statutory"] else "named", "people": saved["people"]}
    return BeneficiaryForm(formdata=formdata, data=data)


def _save_beneficiaries(product, application, form, today, now):
    statutory = form.kind.data != "named"
    applications.save_beneficiaries(application, statutory=statutory,
                                    people=[] if statutory else form.people_data(), now=now)


def _health_form(product, application, formdata):
    return ActionForm(formdata=formdata)


def _save_health(product, application, form, today, now):
    answers = [request.form.get(f"q{i}", "") for i in range(len(applications.health_questions(product)))]
    if not applications.save_health(application, product, answers, now):  # a 是: the application ends here
        return url_for("purchase.done", slug=product.slug, number=application.number)
    return None


def _confirm_form(product, application, formdata):
    return ConfirmForm(formdata=formdata, data={"idempotency_key": orders.new_idempotency_key()})


def _save_confirm(product, application, form, today, now):
    order = _place_order(application, product, form.idempotency_key.data, today, now)
    return url_for("orders.pay", number=order.number)


STEP_TABLE = {
    1: (_plan_form, _save_plan),
    2: (_applicant_form, _save_applicant),
    3: (_insured_form, _save_insured),
    4: (_beneficiaries_form, _save_beneficiaries),
    5: (_health_form, _save_health),
    6: (_confirm_form, _save_confirm),
}


def _step_form(step, product, application, formdata=None):
    """The step's form: from the saved breakpoint on a GET, from what was posted otherwise."""
    return STEP_TABLE[step][0](product, application, formdata)


def _render_step(step, product, application, form, status=200, notice=None, errors=None):
    quote = None
    if application.premium_fen is None:
        quote = applications.reprice(application, product, today_local())
    # Step forms are boosted by htmx: the whole page is swapped, so there is no block to pick.
    return render_template(f"purchase/step_{step}.html", product=product, application=application,
                           form=form, step=step, steps=STEPS, notice=notice, errors=errors or {}, quote=quote,
                           questions=applications.health_questions(product), details=application.details,
                           relations=applications.RELATIONS,
                           beneficiary_relations=applications.BENEFICIARY_RELATIONS,
                           check_url=url_for("purchase.check_field", slug=product.slug, number=application.number,
                                             step=step)), status


@bp.get("/buy/<slug:slug>/<number>/<int:step>")
@login_required
def step(slug, number, step):
    product = _product_or_404(slug)
    application = _application_or_404(product, number)
    if application.status != "draft":
        return redirect(url_for("purchase.done", slug=slug, number=number))
    if step not in STEPS:
        abort(404)
    if step > application.step:  # no skipping ahead: back to the first step not done yet
        return redirect(url_for("purchase.step", slug=slug, number=number, step=application.step))
    return _render_step(step, product, application, _step_form(step, product, application),
                        notice=applications.NOTICES.get(request.args.get("notice", "")))


@bp.post("/buy/<slug:slug>/<number>/<int:step>")
@login_required
@consent_required
@writes
def save_step(slug, number, step):
    """Check and save one step (the breakpoint), then on to the next."""
    product = _product_or_404(slug)
    application = _application_or_404(product, number)
    if step == 6 and application.status == "awaiting_payment":  # sent again: a double click, a second tab
        sent = ConfirmForm()  # the key as the form reads it: a hostile one finds nothing
        key = sent.idempotency_key.data if sent.idempotency_key.validate(sent) else None
        order = (key and orders.by_idempotency_key(current_user, key)) or orders.pending_order(application)
        if order is not None:
            return redirect(url_for("orders.pay", number=order.number))
    if application.status != "draft" or step not in STEPS or step > application.step:
        return redirect(url_for("purchase.step", slug=slug, number=number, step=application.step))
    form = _step_form(step, product, application, formdata=request.form)
    if not form.validate():
        return _render_step(step, product, application, form, 422)
    try:
        target = STEP_TABLE[step][1](product, application, form, today_local(), db_now())
    except applications.ApplicationError as error:
        db.session.rollback()
        errors = {}
        field = field_named(form, error.field or "")
        if field is not None:
            field.errors.append(error.message)
        else:
            errors[error.field or "form"] = error.message
        return _render_step(step, product, _application_or_404(product, number), form, 422, errors=errors)
    db.session.commit()
    return redirect(target or url_for("purchase.step", slug=slug, number=number, step=step + 1))


def _place_order(application, product, key, today, now):
    """The order of this confirmation; a twin request that lost the race on the key finds the winner's."""
    try:
        order = orders.place(current_user, application, product, key, today, now)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        order = orders.by_idempotency_key(current_user, key)
        if order is None:
            raise
    return order


@bp.post("/buy/<slug:slug>/<number>/<int:step>/check")
@login_required
def check_field(slug, number, step):
    """Inline validation: the field that changed, checked by the same form class the submit uses; the
    answer is that field's error element (empty when it is fine). Nothing is saved."""
    product = _product_or_404(slug)
    application = _application_or_404(product, number)
    if step not in STEPS:
        abort(404)
    form = _step_form(step, product, application, formdata=request.form)
    name = request.headers.get("HX-Trigger-Name", "")
    field = field_named(form, name)
    if field is None or name == "csrf_token":
        abort(400)
    form.validate()
    field_error = get_template_attribute("macros/forms.html", "field_error")
    return field_error(field)


@bp.get("/buy/<slug:slug>/<number>/done")
@login_required
def done(slug, number):
    """Where a submitted application is now: its payment, its policy, or why it ended online."""
    product = _product_or_404(slug)
    application = _application_or_404(product, number)
    if application.status == "draft":
        return redirect(url_for("purchase.step", slug=slug, number=number, step=application.step))
    if application.status in ("awaiting_payment", "paid"):
        order = orders.latest_order(application)
        if order is not None:
            return redirect(url_for("orders.show", number=order.number))
    return render_template("purchase/done.html", product=product, application=application)


@bp.post("/buy/<slug:slug>/<number>/delete")
@login_required
@writes
def delete(slug, number):
    """删除 an unfinished application and the personal data saved with it."""
    product = _product_or_404(slug)
    application = _application_or_404(product, number)
    if application.status == "draft":
        applications.delete(application)
        db.session.commit()
        flash("已删除未完成的投保单及其中保存的个人信息。", "info")
    return redirect(url_for("account.applications"))


@register(bp, "product_actions", "purchase/product_actions.html")
def product_actions(product, user):
    """A product page's 立即投保, or 继续投保 the user's unfinished application for it."""
    found = applications.drafts(user, product.id) if user.is_authenticated else []
    return {"product": product, "draft": found[0] if found else None}
