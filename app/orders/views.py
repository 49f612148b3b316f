"""Orders and their payment by WeChat Pay (Native QR, JSAPI inside WeChat, H5 in a phone's browser), the
payment notification, the e-policies."""
from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.forms import ActionForm
from app.core.clock import db_now, today_local, utcnow
from app.core.devices import channel_of, is_wechat
from app.core.htmx import go_to, render_page, wants_fragment
from app.core.parts import parts
from app.core.qr import qr_data_uri
from app.extensions import csrf
from app.orders import bp, epolicy
from app.orders import services as orders
from app.orders.forms import SurrenderForm
from app.payments import NotificationRefused, PayError, pay_client, simulated


def _order_or_404(number):
    order = orders.find(current_user, number)
    if order is None:
        abort(404)
    return order


def _policy_or_404(number):
    policy = orders.find_policy(current_user, number)
    if policy is None:
        abort(404)
    return policy


def _paid_redirect(order):
    """Where a paid order goes: its policy (HX-Redirect for the poll)."""
    target = url_for("orders.show", number=order.number)
    if order.status == "issued":
        policy = orders.policy_of(order)
        target = url_for("orders.policy", number=policy.number)
    return go_to(target)


@bp.get("/orders/<number>")
@login_required
def show(number):
    """An order's state: waiting for payment goes to the pay page; otherwise what became of it."""
    order = _order_or_404(number)
    orders.expire_if_due(order, db_now())
    if order.status == "pending":
        return redirect(url_for("orders.pay", number=number))
    return render_template("orders/show.html", order=order, policy=orders.policy_of(order))


def pay_method(user_agent):
    """How this device pays: inside WeChat JSAPI, a phone's browser H5, a desktop the Native QR."""
    if is_wechat(user_agent):
        return "jsapi"
    return "h5" if channel_of(user_agent) == "phone" else "native"


@bp.get("/orders/<number>/pay")
@login_required
def pay(number):
    """The amount, the product and the way to pay this device has: inside WeChat WeChat Pay's cashier
    (JSAPI), a phone's browser a button to WeChat (H5), a desktop a QR to scan (Native). The status below is
    polled (htmx) until paid; without JavaScript, 我已支付 asks WeChat Pay."""
    order = _order_or_404(number)
    orders.expire_if_due(order, db_now())
    if order.status != "pending":
        return redirect(url_for("orders.show", number=number))
    method = pay_method(request.user_agent.string)
    if method == "jsapi" and request.headers.get("HX-Request"):
        # Reached through a boosted form (the application's last step): htmx would swap the body and leave
        # the head, so the page's scripts (the cashier's) would never run. Load it whole.
        return Response(status=200, headers={"HX-Redirect": url_for("orders.pay", number=number)})
    page = {"order": order, "method": method, "state": "pending", "form": ActionForm(), "simulated": simulated()}
    try:
        if method == "jsapi":
            openid = orders.payer_openid(current_user)
            if openid is None:  # no WeChat identity of ours in the paying app: another phone scans the QR
                page.update(method="native", unlinked=True)
            else:
                page["jsapi"] = orders.jsapi_request(order, openid)
        elif method == "h5":
            back = current_app.config["SITE_URL"].rstrip("/") + url_for("orders.returned", number=number)
            page["h5_link"] = orders.h5_link(order, request.remote_addr or "127.0.0.1", back)
        if page["method"] == "native":
            code_url = orders.code_url(order)
            page["qr_image"] = qr_data_uri(code_url)
            if simulated():
                page["cashier"] = url_for("wechatpay_simulator.cashier", pr=code_url.rsplit("pr=", 1)[-1])
    except PayError as error:
        current_app.logger.warning("Creating the %s transaction of order %s failed: %s", method, number, error.code)
        return render_template("orders/pay.html", **{**page, "state": "unavailable", "qr_image": None}), 503
    return render_template("orders/pay.html", **page)


@bp.get("/orders/<number>/return")
@login_required
def returned(number):
    """Where WeChat sends a phone's browser back after H5 pay (its redirect_url), paid or not: WeChat Pay is
    asked now, and a paid order goes on to its policy."""
    return _ask_wechat_pay(_order_or_404(number), "暂未收到支付结果。如已付款，请稍候片刻，本页会自动更新。")


@bp.get("/orders/<number>/status")
@login_required
def status(number):
    """The pay page's poll: paid → the policy; after a while without news, WeChat Pay is asked."""
    order = _order_or_404(number)
    now = db_now()
    orders.poll(order, now)
    orders.expire_if_due(order, now)
    if order.status in ("paid", "issued"):
        return _paid_redirect(order)
    state = "pending" if order.status == "pending" else "closed"
    if wants_fragment():
        return render_page("orders/pay.html", "pay_status", order=order, state=state, form=ActionForm())
    return redirect(url_for("orders.pay", number=number))


@bp.post("/orders/<number>/check")
@login_required
def check(number):
    """我已支付 (without JavaScript): ask WeChat Pay now."""
    return _ask_wechat_pay(_order_or_404(number), "暂未收到支付结果。如已付款，请稍候片刻再点“我已支付”。")


def _ask_wechat_pay(order, still_waiting):
    """Ask WeChat Pay about a pending order now: paid → its policy; still pending → the pay page saying
    ``still_waiting``; otherwise what became of it."""
    if order.status == "pending":
        orders.sync_with_wechat_pay(order)
    if order.status in ("paid", "issued"):
        return _paid_redirect(order)
    if order.status == "pending":
        flash(still_waiting, "info")
        return redirect(url_for("orders.pay", number=order.number))
    return redirect(url_for("orders.show", number=order.number))


@bp.post("/pay/wechat/notify")
@csrf.exempt  # WeChat Pay's servers: the signature is the check
def wechat_notify():
    """WeChat Pay's notification: verified, decrypted, checked against the order, applied once."""
    try:
        event = pay_client().parse_notification(request.headers, request.get_data())
    except NotificationRefused:
        current_app.logger.warning("WeChat Pay notification refused: bad signature, stale timestamp or resource")
        return _notify_failed(401)
    resource, kind = event["resource"], event.get("event_type", "")
    order = orders.order_of_transaction(resource.get("out_trade_no"))
    if order is None:
        current_app.logger.warning("WeChat Pay notification %s for an unknown order", kind)
        return _notify_failed(404)
    try:
        if kind == "TRANSACTION.SUCCESS":
            orders.record_payment(order.id, resource)
        elif kind.startswith("REFUND."):
            second = orders.second_payment(resource.get("out_refund_no"))
            if second is not None and second.order_id == order.id:  # a payment too many, given back
                orders.record_second_refund(second.id, resource)
            elif order.refund_no:  # 退保
                orders.record_refund(order.id, resource)
    except orders.PaymentMismatch as mismatch:
        current_app.logger.error("WeChat Pay notification %s for order %s refused: %s does not match",
                                 kind, order.number, mismatch)
        return _notify_failed(400)
    return Response(status=204)


def _notify_failed(status):
    return jsonify(code="FAIL", message="失败"), status


# Policies

@bp.get("/policies/<number>")
@login_required
def policy(number):
    policy = _policy_or_404(number)
    if policy.order.status == "refunding":
        orders.sync_refund(policy.order)
    return _render_policy(policy, SurrenderForm())


def _render_policy(policy, form, status=200):
    today = today_local()
    return render_template("orders/policy.html", policy=policy, order=policy.order, plan=orders.plan_of(policy),
                           today=today, terms=orders.terms_of(policy),
                           can_surrender=orders.can_surrender(policy, today),
                           cooling_off_ends=orders.cooling_off_ends(policy), form=form,
                           actions=parts("policy_actions", policy=policy, user=current_user)), status


@bp.get("/policies/<number>.pdf")
@login_required
def policy_pdf(number):
    policy = _policy_or_404(number)
    pdf = epolicy.render_pdf(policy, plan=orders.plan_of(policy), terms=orders.terms_of(policy),
                             generated_at=utcnow())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{policy.number}.pdf"',
        "Cache-Control": "private, no-store"})


@bp.post("/policies/<number>/surrender")
@login_required
def surrender(number):
    """退保 within the cooling-off period: a full refund through WeChat Pay."""
    policy = _policy_or_404(number)
    form = SurrenderForm()
    if not form.validate():
        return _render_policy(policy, form, 422)
    try:
        orders.surrender(policy, db_now())
    except orders.OrderError as error:
        flash(error.message, "error")
    else:
        flash("退保申请已提交，保费将原路退回微信支付账户。", "info")
    return redirect(url_for("orders.policy", number=number))
