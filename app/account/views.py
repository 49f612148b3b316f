"""The account centre: my profile and contact data, privacy switches, the consent ledger, my data and 注销."""
import csv
import io
import json

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user

from app.account import bp, services
from app.account.forms import AccountContactForm, DeleteForm
from app.agreements import gate
from app.agreements import services as agreements
from app.agreements.models import PRIVACY_SETTINGS
from app.auth import bridge, qrlogin
from app.auth.forms import ActionForm
from app.core.clock import db_now, format_local, today_local
from app.core.database import writes
from app.core.devices import channel_of
from app.core.htmx import go_to, render_page, wants_fragment
from app.core.masking import mask_ip
from app.core.parts import parts
from app.extensions import db

ACTIONS = {"accept": "同意", "withdraw": "撤回"}
CHANNELS = {"desktop": "电脑网页", "phone": "手机"}


def _render_me(form=None, status=200):
    form = form or AccountContactForm(data=_contact_data())
    return render_template("account/me.html", user=current_user, form=form,
                           counts=services.counts(current_user, db_now()),
                           logins=services.recent_logins(current_user.id)), status


def _contact_data():
    saved = services.contact(current_user)
    return {**saved, "address": saved["detail"]}


@bp.get("/me")
@login_required
def me():
    """My profile (from WeChat), my verified identity (locked), my contact data (mine to correct), the
    recent logins, and the way to everything else that is mine."""
    return _render_me()


@bp.post("/me/contact")
@login_required
@writes
def contact():
    form = AccountContactForm()
    if not form.validate():
        return _render_me(form, 422)
    services.save_contact(current_user, mobile=form.mobile.data, email=form.email.data,
                          province=form.province.data, city=form.city.data, district=form.district.data,
                          detail=form.address.data)
    db.session.commit()
    flash("联系方式已保存。", "info")
    return redirect(url_for("account.me"))


@bp.get("/me/applications")
@login_required
def applications():
    """Unfinished applications (断点): 继续投保 where it was left, or 删除."""
    from app.purchase.applications import drafts
    from app.purchase.models import STEPS
    return render_template("account/applications.html", drafts=drafts(current_user), form=ActionForm(),
                           steps=STEPS)


@bp.get("/me/policies")
@login_required
def policies():
    """My policies, newest first, and orders still waiting for payment."""
    from app.orders import services as orders
    waiting = [o for o in orders.orders_of(current_user) if o.status == "pending"]
    return render_template("account/policies.html", policies=orders.policies_of(current_user), waiting=waiting,
                           today=today_local())


SWITCHES = {"personalization": services.set_personalization, "promotions": services.set_promotions,
            "reminders": services.set_reminders}


@bp.get("/me/privacy")
@login_required
def privacy():
    """隐私管理: 个性化推荐, 推广信息, 投保断点提醒."""
    return render_template("account/privacy.html", user=current_user, form=ActionForm())


@bp.post("/me/privacy/<any(personalization, promotions, reminders):setting>")
@login_required
@writes
def privacy_switch(setting):
    """A switch, saved at once (htmx swaps the switch's block) or by a plain form; written to the ledger."""
    enabled = request.form.get("enabled") == "1"
    removed = SWITCHES[setting](current_user, enabled)
    services.record_choice(current_user, setting, enabled, now=db_now(), ip=request.remote_addr or "",
                           user_agent=request.user_agent.string, channel=channel_of(request.user_agent.string))
    db.session.commit()
    notice = NOTICES[setting][enabled].format(removed=removed)
    if wants_fragment():
        return render_page("account/privacy.html", setting, user=current_user, form=ActionForm(), notice=notice)
    flash(notice, "info")
    return redirect(url_for("account.privacy"))


NOTICES = {
    "personalization": {True: "已开启个性化推荐。", False: "已关闭个性化推荐，并删除了 {removed} 条浏览记录；此后不再记录你的浏览。"},
    "promotions": {True: "已开启推广信息。", False: "已关闭推广信息，我们及受托第三方将不再向你发送推广信息。"},
    "reminders": {True: "已开启投保断点提醒。", False: "已关闭投保断点提醒，并删除了 {removed} 份未完成投保中保存的信息。"},
}


@bp.get("/me/consents")
@login_required
def consents():
    """Every acceptance and withdrawal, newest first; the personal-information authorization can be
    withdrawn here."""
    rows = agreements.user_consents(current_user.id)
    latest = agreements.latest_consents(current_user)
    withdrawable = [row.version.agreement for row in latest.values()
                    if row.action == "accept" and row.version.agreement.withdrawable]
    return render_template("account/consents.html", rows=rows, withdrawable=withdrawable, form=ActionForm(),
                           actions=ACTIONS, channels=CHANNELS, choices=services.choices_of(current_user.id),
                           settings=PRIVACY_SETTINGS)


def _ledger():
    return [{"agreement": row.version.agreement.title, "kind": row.version.agreement.kind,
             "version": row.version.version, "action": row.action, "at_utc": row.at.isoformat() + "Z",
             "at_shanghai": format_local(row.at, "%Y-%m-%d %H:%M:%S"), "channel": row.channel,
             "ip": mask_ip(row.ip), "user_agent": row.user_agent,
             "guardian_approved": row.guardian_consent_id is not None}
            for row in agreements.user_consents(current_user.id)]


@bp.get("/me/consents.<any(csv, json):fmt>")
@login_required
def consents_export(fmt):
    """The ledger as a file to keep: CSV (opens in Excel, hence the BOM) or JSON."""
    rows = _ledger()
    if fmt == "json":
        body, mimetype = json.dumps({"consents": rows}, ensure_ascii=False, indent=2), "application/json"
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["agreement", "kind", "version", "action", "at_utc",
                                                 "at_shanghai", "channel", "ip", "user_agent", "guardian_approved"])
        writer.writeheader()
        writer.writerows(rows)
        body, mimetype = "\ufeff" + out.getvalue(), "text/csv"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="wesure-consents.{fmt}"', "Cache-Control": "no-store"})


@bp.post("/me/consents/<kind>/withdraw")
@login_required
@writes
def withdraw(kind):
    """Withdraw an authorization: recorded as its own row; the gate asks again before the next action."""
    agreement = agreements.get_agreement(kind)
    if agreement is None:
        abort(404)
    try:
        agreements.withdraw(current_user, agreement, now=db_now(),
                            ip=request.remote_addr or "", user_agent=request.user_agent.string,
                            channel=channel_of(request.user_agent.string))
    except agreements.AgreementError as error:
        flash(error.message, "error")
        return redirect(url_for("account.consents"))
    db.session.commit()
    session.pop(gate.SESSION_KEY, None)
    flash(f"已撤回《{agreement.title}》。在你重新同意之前，投保等需要授权的操作将无法进行。", "info")
    return redirect(url_for("account.consents"))


# 我的数据 and 注销

@bp.get("/me/data")
@login_required
def data():
    return _render_data(DeleteForm())


def _render_data(form, status=200):
    return render_template("account/data.html", form=form, kept=services.KEPT_BY_LAW, deleted=services.DELETED,
                           blocker=services.deletion_blocker(current_user),
                           held=parts("my_data", user=current_user)), status


@bp.get("/me/data.json")
@login_required
def data_export():
    """Everything we hold about the user, personal information decrypted: for its owner only."""
    body = json.dumps(services.export(current_user, today_local()), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="wesure-my-data.json"'})


@bp.post("/me/data/delete")
@login_required
@writes
def delete_request():
    """注销, step 1: the user confirms here, then on their phone by scanning a code with the WeChat of
    this very account (deleting an account is the most dangerous thing a session can do)."""
    form = DeleteForm()
    if not form.validate():
        return _render_data(form, 422)
    if services.deletion_blocker(current_user):
        return _render_data(form, 409)
    qr, token, nonce = bridge.start(DELETE, next_url="/", requester=current_user)
    db.session.commit()
    return bridge.desktop_page(DELETE, qr, token, nonce)


def _deleted(qr, now):
    """The account's own WeChat confirmed: the account goes, and this session with it."""
    services.delete_account(current_user, now)
    db.session.commit()
    logout_user()
    session.clear()
    flash("你的账户已注销。依法保留的保单与授权记录仅用于履行合同和备查。", "info")
    return go_to(url_for("catalog.home"))


DELETE = bridge.Bridge(
    purpose="delete_account", blueprint="account", name="delete", poll_prefix="/me/data/delete",
    cookie_path="/me/data/delete", phone_prefix="/m/delete", opener="requester",
    confirm=lambda qr, openid, form, now: qrlogin.confirm_requester(qr, openid, now), spent=_deleted,
    desktop_template="account/delete_confirm.html", status_block="delete_status", status_id="delete-status",
    texts={"pending": ("等待扫码确认", "二维码 2 分钟内有效。", None),
           "scanned": ("已扫码，请在手机上确认", "", None),
           "confirmed": ("已确认，正在注销…", "", None),
           "cancelled": ("已在手机上取消注销", "", "返回"),
           "expired": ("二维码已过期", "", "重新发起"),
           "invalid": ("二维码已失效", "", "重新发起")},
    retry=lambda qr, state: url_for("account.data"), noscript_label="我已在手机上确认",
    simulator_label="在本机模拟手机扫码",
    share_label="在手机上不能扫自己屏幕上的码：复制下面的链接，在本账号绑定的微信中打开并确认。",
    phone_title="确认注销账户", ask_template="account/delete_ask.html", confirm_label="确认注销",
    cancel_label="取消", danger=True,
    done={"confirm": "已确认注销，请回到电脑上查看", "cancel": "已取消注销，你的账户不受影响"})
bridge.register(bp, DELETE)
