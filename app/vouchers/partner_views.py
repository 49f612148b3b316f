"""The partner staff's pages: sign in, redeem (a code typed, scanned by a USB/Bluetooth scanner, or by
the phone's camera), and the store's redemptions for settlement."""
import csv
import io
from datetime import UTC, datetime, time, timedelta

from flask import Response, current_app, redirect, render_template, request, url_for

from app.auth.services import safe_next
from app.core.clock import SHANGHAI, db_now, format_local, today_local
from app.core.database import begin_write, writes
from app.core.htmx import render_page
from app.core.masking import mask_name
from app.extensions import db, limiter
from app.vouchers import partner_bp as bp
from app.vouchers import services as vouchers
from app.vouchers import staff as staff_auth
from app.vouchers.forms import PeriodForm, RedeemForm, StaffLoginForm
from app.vouchers.staff import current_staff, staff_required


def _staff_key():
    staff = current_staff()
    return f"partner-staff:{staff.id}" if staff else request.remote_addr or ""


# Looking codes up and redeeming share one budget per staff account: codes cannot be guessed by trying.
lookup_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_PARTNER_LOOKUP"], scope="partner-lookup",
                                    key_func=_staff_key, exempt_when=lambda: request.method == "GET"
                                    and request.endpoint == "partner.redeem" and "code" not in request.args)


@bp.get("/login")
def login():
    if current_staff() is not None:
        return redirect(url_for("partner.redeem"))
    form = StaffLoginForm(data={"next": request.args.get("next", "")})
    return render_template("partner/login.html", form=form)


@bp.post("/login")
@limiter.limit(lambda: current_app.config["RATELIMIT_PARTNER_LOGIN"])
def login_submit():
    form = StaffLoginForm()
    if form.validate():
        begin_write()
        try:
            staff = staff_auth.authenticate(form.username.data, form.password.data, db_now())
        except staff_auth.LoginRefused as refused:
            form.password.errors.append(refused.message)
        else:
            target = safe_next(form.next.data, url_for("partner.redeem"))
            if not target.startswith("/partner"):
                target = url_for("partner.redeem")
            return staff_auth.sign_in(redirect(target), staff)
    return render_template("partner/login.html", form=form), 422


@bp.post("/logout")
@writes
def logout():
    return staff_auth.sign_out(redirect(url_for("partner.login")), current_staff())


def _render_redeem(form, voucher=None, message=None, done=None, status=200):
    now = db_now()
    context = {"form": form, "staff": current_staff(), "voucher": voucher, "message": message, "done": done,
               "state": vouchers.state(voucher, now) if voucher else None,
               "holder": mask_name(vouchers.holder_nickname(voucher)) if voucher else None,
               "grouped": vouchers.grouped(voucher.code) if voucher else None,
               "used_message": vouchers.used_message(voucher) if voucher and voucher.status == "used" else None}
    return render_page("partner/redeem.html", "lookup", status, **context)


@bp.get("/redeem")
@staff_required
@lookup_limit
def redeem():
    """The redeem page; with ?code= (a scanner's Enter, or the form without JavaScript) the lookup."""
    code = request.args.get("code")
    if code is None:
        return _render_redeem(RedeemForm(formdata=None))
    return lookup(code)


@bp.get("/redeem/<code>")
@staff_required
@lookup_limit
def redeem_code(code):
    return lookup(code)


def lookup(code):
    form = RedeemForm(formdata=None, data={"code": code})
    try:
        voucher = vouchers.lookup(current_staff(), code)
    except vouchers.VoucherError as error:
        form.code.errors = [error.message]
        return _render_redeem(form, status=422)
    return _render_redeem(form, voucher=voucher)


@bp.post("/redeem/<code>")
@staff_required
@lookup_limit
@writes
def redeem_submit(code):
    """确认核销 (CSRFProtect has checked the token; the code is the URL's)."""
    form = RedeemForm(formdata=None, data={"code": code})
    staff = current_staff()
    try:
        voucher = vouchers.lookup(staff, code)
        voucher = vouchers.redeem(staff, voucher, db_now())
    except vouchers.VoucherError as error:
        db.session.rollback()
        known = vouchers.by_code(vouchers.normalise_code(code))
        if known is not None and vouchers.honoured_at(known.offer, staff.store):
            return _render_redeem(RedeemForm(formdata=None, data={"code": code}), voucher=known,
                                  message=error.message, status=409)
        form.code.errors = [error.message]
        return _render_redeem(form, status=422)
    return _render_redeem(RedeemForm(formdata=None), voucher=voucher, done=True)


def _period(form, today):
    """[start, end] local days from the form (default: the last 7 days; a day it refuses counts as not
    given), at most 92 days."""
    form.validate()
    start = form.start.data if not form.start.errors else None
    end = (form.end.data if not form.end.errors else None) or today
    start = start or end - timedelta(days=6)
    if end < start:
        start, end = end, start
    start = max(start, end - timedelta(days=91))
    return start, end


def _utc(day):
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


@bp.get("/redemptions")
@staff_required
def redemptions():
    """The store's redemptions by day with totals (count, settlement amount); CSV for settlement."""
    staff = current_staff()
    form = PeriodForm()
    start, end = _period(form, today_local())
    rows = vouchers.redemptions(staff.store_id, _utc(start), _utc(end + timedelta(days=1)))
    days = {}
    for voucher in rows:
        day = days.setdefault(format_local(voucher.redeemed_at, "%Y-%m-%d"), {"count": 0, "amount": 0, "rows": []})
        day["count"] += 1
        day["amount"] += voucher.offer.settlement_fen
        day["rows"].append(voucher)
    names = vouchers.staff_names(staff.store_id)
    if request.args.get("format") == "csv":
        return _csv(staff, rows, names, start, end)
    return render_template("partner/redemptions.html", staff=staff, days=days, start=start, end=end, form=form,
                           total_count=len(rows), total_amount=sum(v.offer.settlement_fen for v in rows),
                           grouped=vouchers.grouped, staff_names=names), 422 if form.errors else 200


def _csv(staff, rows, names, start, end):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["核销时间", "门店", "券码", "优惠", "结算金额（元）", "核销人"])
    for voucher in sorted(rows, key=lambda v: v.redeemed_at):
        fen = voucher.offer.settlement_fen
        writer.writerow([format_local(voucher.redeemed_at, "%Y-%m-%d %H:%M:%S"), staff.store.name, voucher.code,
                         voucher.offer.title, f"{fen // 100}.{fen % 100:02d}",
                         names.get(voucher.redeemed_staff_id, "")])
    filename = f"redemptions-{staff.store_id}-{start:%Y%m%d}-{end:%Y%m%d}.csv"
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


@bp.after_request
def private(response):
    """Staff pages are never cached."""
    response.headers["Cache-Control"] = "private, no-store"
    return response
