"""The account centre: my profile, my consent ledger."""
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
from flask_login import current_user, login_required

from app.account import bp
from app.agreements import gate
from app.agreements import services as agreements
from app.auth.forms import ActionForm
from app.core.clock import format_local, today_local, utcnow
from app.core.database import writes
from app.core.devices import channel_of
from app.core.masking import mask_ip
from app.extensions import db

ACTIONS = {"accept": "同意", "withdraw": "撤回"}
CHANNELS = {"desktop": "电脑网页", "phone": "手机"}


@bp.get("/me")
@login_required
def me():
    """My profile, as synced from WeChat at the last login."""
    return render_template("account/me.html", user=current_user)


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


@bp.get("/me/privacy")
@login_required
def privacy():
    """Privacy settings: 断点续保 reminders (off deletes the saved breakpoints)."""
    return render_template("account/privacy.html", user=current_user, form=ActionForm())


@bp.post("/me/privacy/reminders")
@login_required
@writes
def privacy_reminders():
    from app.purchase.reminders import stop_reminders
    if request.form.get("enabled") == "1":
        current_user.reminders_enabled = True
        flash("已开启投保提醒。", "info")
    else:
        removed = stop_reminders(current_user)
        flash(f"已关闭投保提醒，并删除了 {removed} 份未完成投保中保存的信息。", "info")
    db.session.commit()
    return redirect(url_for("account.privacy"))


@bp.get("/me/consents")
@login_required
def consents():
    """Every acceptance and withdrawal, newest first; the personal-information authorization can be
    withdrawn here."""
    rows = agreements.user_consents(current_user.id)
    latest = agreements.latest_consents(current_user.id)
    withdrawable = [row.version.agreement for row in latest.values()
                    if row.action == "accept" and row.version.agreement.withdrawable]
    return render_template("account/consents.html", rows=rows, withdrawable=withdrawable, form=ActionForm(),
                           actions=ACTIONS, channels=CHANNELS)


def _ledger():
    return [{"agreement": row.version.agreement.title, "kind": row.version.agreement.kind,
             "version": row.version.version, "action": row.action, "at_utc": row.at.isoformat() + "Z",
             "at_shanghai": format_local(row.at, "%Y-%m-%d %H:%M:%S"), "channel": row.channel,
             "ip": mask_ip(row.ip), "user_agent": row.user_agent}
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
                                                 "at_shanghai", "channel", "ip", "user_agent"])
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
        agreements.withdraw(current_user, agreement, now=utcnow().replace(tzinfo=None),
                            ip=request.remote_addr or "", user_agent=request.user_agent.string,
                            channel=channel_of(request.user_agent.string))
    except agreements.AgreementError as error:
        flash(error.message, "error")
        return redirect(url_for("account.consents"))
    db.session.commit()
    session.pop(gate.SESSION_KEY, None)
    flash(f"已撤回《{agreement.title}》。在你重新同意之前，投保等需要授权的操作将无法进行。", "info")
    return redirect(url_for("account.consents"))
