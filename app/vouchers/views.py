"""Offers and my vouchers."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.agreements import services as agreements
from app.agreements.gate import consent_required
from app.core.clock import db_now, today_local
from app.core.database import writes
from app.core.devices import channel_of
from app.core.htmx import render_page
from app.core.parts import register
from app.core.qr import qr_data_uri
from app.extensions import db
from app.vouchers import bp
from app.vouchers import services as vouchers
from app.vouchers.forms import ClaimForm, OfferFilterForm
from app.vouchers.models import KINDS


@bp.after_request
def private_pages(response):
    """A user's vouchers (their codes) are never cached along the way."""
    if request.path.startswith("/me/"):
        response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/offers")
def offers():
    """Offers, filtered by kind and city; htmx gets the results block."""
    form = OfferFilterForm().set_cities(vouchers.cities())
    if not form.validate():
        form = OfferFilterForm(formdata=None).set_cities(vouchers.cities())
    today = today_local()
    return render_page("vouchers/offers.html", "results", form=form, kinds=KINDS, today=today,
                       offers=vouchers.list_offers(today, kind=form.kind.data, city=form.city.data))


def _offer_or_404(offer_id):
    offer = vouchers.get_offer(offer_id)
    if offer is None:
        abort(404)
    return offer


def _render_offer(offer, form=None, status=200, error=None):
    today = today_local()
    signed_in = current_user.is_authenticated
    pending = vouchers.partner_pending(current_user, offer, today) if signed_in else None
    claimed = vouchers.claimed_count(current_user, offer) if signed_in else 0
    problem = (vouchers.minor_problem(current_user, pending, today)
               or vouchers.claim_problem(current_user, offer, today, claimed) if signed_in else None)
    form = form or ClaimForm(data={"submission": agreements.new_submission_key(),
                                   "agreement_version": pending.version.id if pending else ""})
    return render_template(
        "vouchers/offer.html", offer=offer, stores=vouchers.stores_for(offer), form=form, error=error,
        partner_agreement=agreements.get_agreement(offer.partner.agreement_kind), pending=pending,
        problem=problem,
        required_category=vouchers.category_name(offer.required_category) if offer.required_category else None,
        claimed=claimed, kinds=KINDS), status


@bp.get("/offers/<int:offer_id>")
def offer(offer_id):
    return _render_offer(_offer_or_404(offer_id))


@bp.post("/offers/<int:offer_id>/claim")
@login_required
@consent_required
@writes
def claim(offer_id):
    """领取: the partner's agreement accepted in the same step (recorded in the consent ledger), then
    the voucher. A double click gets one voucher on a limit-1 offer."""
    offer = _offer_or_404(offer_id)
    form = ClaimForm()
    today, now = today_local(), db_now()
    if not form.validate():
        return _render_offer(offer, form, 422)
    try:
        voucher = vouchers.claim_with_agreement(
            current_user, offer, agreed=form.agreement.data, version_id=_version_id(form.agreement_version.data),
            submission=form.submission.data, today=today, now=now, ip=request.remote_addr or "",
            user_agent=request.user_agent.string, channel=channel_of(request.user_agent.string))
        db.session.commit()
    except (vouchers.VoucherError, agreements.AgreementError) as error:
        db.session.rollback()
        if error.field == "agreement":
            form.agreement.errors.append(error.message)
            return _render_offer(_offer_or_404(offer_id), form, 422)
        return _render_offer(_offer_or_404(offer_id), form, 422, error=error.message)
    except IntegrityError:
        db.session.rollback()  # a twin request (double click) took the same place in the limit
        return _render_offer(_offer_or_404(offer_id), form, 409,
                             error=f"每人限领{offer.per_user_limit}张，你已领过")
    flash("领取成功！到店出示券码即可使用。", "info")
    return redirect(url_for("vouchers.voucher", code=voucher.code))


def _version_id(value):
    return int(value) if (value or "").isascii() and (value or "").isdigit() else 0


@bp.get("/me/vouchers")
@login_required
def mine():
    now = db_now()
    return render_template("vouchers/mine.html", items=[(v, vouchers.state(v, now)) for v in
                                                         vouchers.vouchers_of(current_user)],
                           grouped=vouchers.grouped)


@bp.get("/me/vouchers/<code>")
@login_required
def voucher(code):
    """The voucher: its QR and code in groups, the stores, validity and status. Only its owner sees it."""
    voucher = vouchers.find_voucher(current_user, code)
    if voucher is None:
        abort(404)
    return render_template("vouchers/voucher.html", voucher=voucher, state=vouchers.state(voucher, db_now()),
                           qr_image=qr_data_uri(voucher.code), grouped=vouchers.grouped(voucher.code),
                           stores=vouchers.stores_for(voucher.offer))


@register(bp, "home", "vouchers/home_offers.html")
def home_offers(today):
    """The home page's offers: a few open ones (the same for every visitor: cached with the home page)."""
    offers = vouchers.open_offers(today, 4)
    return {"offers": offers} if offers else None
