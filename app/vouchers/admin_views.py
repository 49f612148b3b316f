"""The back office's screens for vouchers: 合作商户 (partners, their stores and the stores' staff accounts:
商户管理) and 权益券活动 (offers: 运营)."""
from flask import abort, redirect, render_template, request, url_for

from app.admin import auth as staff_auth
from app.admin import bp
from app.admin.access import requires, section
from app.admin.audit import ACTIONS
from app.admin.forms import ReasonForm
from app.core.clock import db_now, today_local
from app.core.database import writes
from app.extensions import db
from app.vouchers import manage
from app.vouchers.admin_forms import (
    NewOfferForm,
    NewPartnerForm,
    OfferForm,
    PartnerForm,
    PartnerStaffForm,
    StoreForm,
)
from app.vouchers.models import KINDS

section("合作商户", "admin.partner_list", "partners.manage", position=50, pages=(
    "admin.partner_new", "admin.partner_create", "admin.partner_detail", "admin.partner_update", "admin.store_new",
    "admin.store_create", "admin.store_detail", "admin.store_update", "admin.partner_staff_create",
    "admin.partner_staff_detail", "admin.partner_staff_lock", "admin.partner_staff_unlock",
    "admin.partner_staff_reset"))
section("权益券活动", "admin.offer_list", "offers.edit", position=40, pages=(
    "admin.offer_new", "admin.offer_create", "admin.offer_detail", "admin.offer_update"))

DONE = {"saved": "已保存", "unchanged": "没有修改"}


def _found(obj):
    if obj is None:
        abort(404)
    return obj


def _refused(form, error, default):
    """A service's refusal on its field (``default`` when it names none)."""
    getattr(form, error.field or default).errors.append(error.message)


def _actor():
    return {"now": db_now(), "ip": staff_auth.client_ip()}


# Partners

@bp.get("/partners")
@requires("partners.manage")
def partner_list():
    return render_template("admin/partners/partner_list.html", staff=staff_auth.current_staff(),
                           partners=manage.all_partners(), kinds=KINDS)


@bp.get("/partners/new")
@requires("partners.manage")
def partner_new():
    return render_template("admin/partners/partner_new.html", staff=staff_auth.current_staff(),
                           form=NewPartnerForm(formdata=None))


@bp.post("/partners/new")
@requires("partners.manage")
@writes
def partner_create():
    form = NewPartnerForm()
    actor = staff_auth.current_staff()
    if form.validate():
        try:
            partner = manage.create_partner(actor, slug=form.slug.data, name=form.name.data, kind=form.kind.data,
                                            description=form.description.data or "", **_actor())
        except manage.ManageError as error:
            db.session.rollback()
            _refused(form, error, "slug")
        else:
            db.session.commit()
            return redirect(url_for("admin.partner_detail", partner_id=partner.id, done="saved"))
    return render_template("admin/partners/partner_new.html", staff=actor, form=form), 422


def _render_partner(partner, status=200, form=None, message=None):
    form = form or PartnerForm(formdata=None, obj=partner)
    return render_template("admin/partners/partner_detail.html", staff=staff_auth.current_staff(), partner=partner,
                           form=form.set_agreements(manage.partner_agreements(partner)), message=message,
                           stores=[(store, len(manage.staff_of_store(store))) for store in partner.stores],
                           events=manage.recent_events("partner", partner.id), actions=ACTIONS, today=today_local(),
                           kinds=KINDS), status


@bp.get("/partners/<int:partner_id>")
@requires("partners.manage")
def partner_detail(partner_id):
    return _render_partner(_found(manage.get_partner(partner_id)), message=DONE.get(request.args.get("done")))


@bp.post("/partners/<int:partner_id>")
@requires("partners.manage")
@writes
def partner_update(partner_id):
    partner = _found(manage.get_partner(partner_id))
    form = PartnerForm().set_agreements(manage.partner_agreements(partner))
    if not form.validate():
        return _render_partner(partner, 422, form)
    try:
        changed = manage.update_partner(staff_auth.current_staff(), partner, name=form.name.data, kind=form.kind.data,
                                        description=form.description.data or "",
                                        agreement_kind=form.agreement_kind.data, **_actor())
    except manage.ManageError as error:
        db.session.rollback()
        _refused(form, error, "name")
        return _render_partner(_found(manage.get_partner(partner_id)), 422, form)
    db.session.commit()
    return redirect(url_for("admin.partner_detail", partner_id=partner.id, done="saved" if changed else "unchanged"))


# Stores

def _store_fields(form):
    return {"name": form.name.data, "city": form.city.data, "address": form.address.data,
            "phone": form.phone.data or ""}


@bp.get("/partners/<int:partner_id>/stores/new")
@requires("partners.manage")
def store_new(partner_id):
    return render_template("admin/partners/store_new.html", staff=staff_auth.current_staff(),
                           partner=_found(manage.get_partner(partner_id)), form=StoreForm(formdata=None))


@bp.post("/partners/<int:partner_id>/stores/new")
@requires("partners.manage")
@writes
def store_create(partner_id):
    partner = _found(manage.get_partner(partner_id))
    form = StoreForm()
    if form.validate():
        try:
            store = manage.create_store(staff_auth.current_staff(), partner, **_store_fields(form), **_actor())
        except manage.ManageError as error:
            db.session.rollback()
            _refused(form, error, "name")
            partner = _found(manage.get_partner(partner_id))
        else:
            db.session.commit()
            return redirect(url_for("admin.store_detail", store_id=store.id, done="saved"))
    return render_template("admin/partners/store_new.html", staff=staff_auth.current_staff(), partner=partner,
                           form=form), 422


def _render_store(store, status=200, form=None, staff_form=None, message=None):
    return render_template("admin/partners/store_detail.html", staff=staff_auth.current_staff(), store=store,
                           form=form or StoreForm(formdata=None, obj=store),
                           staff_form=staff_form or PartnerStaffForm(formdata=None),
                           accounts=manage.staff_of_store(store), now=db_now(), locked=manage.locked,
                           events=manage.recent_events("store", store.id), actions=ACTIONS, message=message), status


@bp.get("/stores/<int:store_id>")
@requires("partners.manage")
def store_detail(store_id):
    return _render_store(_found(manage.get_store(store_id)), message=DONE.get(request.args.get("done")))


@bp.post("/stores/<int:store_id>")
@requires("partners.manage")
@writes
def store_update(store_id):
    store = _found(manage.get_store(store_id))
    form = StoreForm()
    if not form.validate():
        return _render_store(store, 422, form=form)
    try:
        changed = manage.update_store(staff_auth.current_staff(), store, **_store_fields(form), **_actor())
    except manage.ManageError as error:
        db.session.rollback()
        _refused(form, error, "name")
        return _render_store(_found(manage.get_store(store_id)), 422, form=form)
    db.session.commit()
    return redirect(url_for("admin.store_detail", store_id=store.id, done="saved" if changed else "unchanged"))


# Partner staff accounts

@bp.post("/stores/<int:store_id>/staff")
@requires("partners.manage")
@writes
def partner_staff_create(store_id):
    """A new account for the store; its password shown here, once."""
    store = _found(manage.get_store(store_id))
    form = PartnerStaffForm()
    if not form.validate():
        return _render_store(store, 422, staff_form=form)
    actor = staff_auth.current_staff()
    try:
        account, password = manage.create_staff(actor, store, username=form.username.data,
                                                display_name=form.display_name.data, **_actor())
    except manage.ManageError as error:
        db.session.rollback()
        _refused(form, error, "username")
        return _render_store(_found(manage.get_store(store_id)), 422, staff_form=form)
    db.session.commit()
    return render_template("admin/partners/staff_password.html", staff=actor, account=account, password=password,
                           created=True)


def _render_account(account, status=200, lock_form=None, reset_form=None):
    return render_template("admin/partners/staff_detail.html", staff=staff_auth.current_staff(), account=account,
                           now=db_now(), locked=manage.locked(account, db_now()),
                           lock_form=lock_form or ReasonForm(formdata=None, prefix="lock"),
                           reset_form=reset_form or ReasonForm(formdata=None, prefix="reset"),
                           events=manage.recent_events("partner_staff", account.id), actions=ACTIONS), status


@bp.get("/partner-staff/<int:partner_staff_id>")
@requires("partners.manage")
def partner_staff_detail(partner_staff_id):
    return _render_account(_found(manage.get_staff(partner_staff_id)))


def _lock_or_unlock(partner_staff_id, change):
    account = _found(manage.get_staff(partner_staff_id))
    form = ReasonForm(prefix="lock")
    if not form.validate():
        return _render_account(account, 422, lock_form=form)
    try:
        change(staff_auth.current_staff(), account, reason=form.reason.data, **_actor())
    except manage.ManageError as error:
        db.session.rollback()
        form.reason.errors.append(error.message)
        return _render_account(_found(manage.get_staff(partner_staff_id)), 409, lock_form=form)
    db.session.commit()
    return redirect(url_for("admin.partner_staff_detail", partner_staff_id=account.id))


@bp.post("/partner-staff/<int:partner_staff_id>/lock")
@requires("partners.manage")
@writes
def partner_staff_lock(partner_staff_id):
    """Locks the account until it is unlocked here; its sessions end now."""
    return _lock_or_unlock(partner_staff_id, manage.lock)


@bp.post("/partner-staff/<int:partner_staff_id>/unlock")
@requires("partners.manage")
@writes
def partner_staff_unlock(partner_staff_id):
    return _lock_or_unlock(partner_staff_id, manage.unlock)


@bp.post("/partner-staff/<int:partner_staff_id>/reset")
@requires("partners.manage")
@writes
def partner_staff_reset(partner_staff_id):
    """A new password, shown here once; every session of the account ends."""
    account = _found(manage.get_staff(partner_staff_id))
    form = ReasonForm(prefix="reset")
    if not form.validate():
        return _render_account(account, 422, reset_form=form)
    actor = staff_auth.current_staff()
    password = manage.reset_password(actor, account, reason=form.reason.data, **_actor())
    db.session.commit()
    return render_template("admin/partners/staff_password.html", staff=actor, account=account, password=password,
                           created=False)


# Offers

@bp.get("/offers")
@requires("offers.edit")
def offer_list():
    return render_template("admin/partners/offer_list.html", staff=staff_auth.current_staff(),
                           offers=manage.all_offers(), today=today_local(), kinds=KINDS)


def _render_new_offer(form, status=200):
    return render_template("admin/partners/offer_new.html", staff=staff_auth.current_staff(),
                           form=form.set_partners(p for p, _, _ in manage.all_partners())
                           .set_categories(manage.category_choices())), status


@bp.get("/offers/new")
@requires("offers.edit")
def offer_new():
    today = today_local()
    return _render_new_offer(NewOfferForm(formdata=None, data={
        "price": 0, "settlement": 0, "per_user_limit": 1, "valid_days": 30, "starts_on": today, "ends_on": today}))


@bp.post("/offers/new")
@requires("offers.edit")
@writes
def offer_create():
    form = NewOfferForm().set_partners(p for p, _, _ in manage.all_partners()).set_categories(manage.category_choices())
    if not form.validate():
        return _render_new_offer(form, 422)
    partner = _found(manage.partner_by_slug(form.partner.data))
    try:
        offer = manage.create_offer(staff_auth.current_staff(), partner, **form.values(), **_actor())
    except manage.ManageError as error:
        db.session.rollback()
        _refused(form, error, "title")
        return _render_new_offer(form, 422)
    db.session.commit()
    return redirect(url_for("admin.offer_detail", offer_id=offer.id, done="saved"))


def _render_offer(offer, status=200, form=None, message=None):
    form = form or OfferForm(formdata=None, obj=offer, data={"price": offer.price_fen, "settlement": offer.settlement_fen})
    return render_template("admin/partners/offer_detail.html", staff=staff_auth.current_staff(), offer=offer,
                           form=form.set_categories(manage.category_choices()), message=message,
                           claimed=manage.claimed_count(offer), redeemed=manage.redeemed_count(offer),
                           events=manage.recent_events("offer", offer.id), actions=ACTIONS, kinds=KINDS), status


@bp.get("/offers/<int:offer_id>")
@requires("offers.edit")
def offer_detail(offer_id):
    return _render_offer(_found(manage.get_offer(offer_id)), message=DONE.get(request.args.get("done")))


@bp.post("/offers/<int:offer_id>")
@requires("offers.edit")
@writes
def offer_update(offer_id):
    """Saves the offer; its stock through one conditional UPDATE (manage.set_stock)."""
    offer = _found(manage.get_offer(offer_id))
    form = OfferForm().set_categories(manage.category_choices())
    if not form.validate():
        return _render_offer(offer, 422, form)
    try:
        changed = manage.update_offer(staff_auth.current_staff(), offer, **form.values(), **_actor())
    except manage.ManageError as error:
        db.session.rollback()
        _refused(form, error, "title")
        return _render_offer(_found(manage.get_offer(offer_id)), 422, form)
    db.session.commit()
    return redirect(url_for("admin.offer_detail", offer_id=offer.id, done="saved" if changed else "unchanged"))
