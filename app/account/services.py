"""The account centre's promises, kept: contact data the user corrects, privacy switches honoured (and
written to the ledger), the browsing trail only while personalisation is on, recent logins, a copy of
everything we hold, and 注销 (account deletion) keeping only what the law requires.

Flushes at most; the view commits.
"""
import json

from sqlalchemy import delete, func, select, update

from app.agreements.models import Consent, GuardianConsent, PrivacyChoice
from app.assistant.models import Consultation, Conversation
from app.auth.accounts import end_all_sessions
from app.auth.models import LoginEvent, QRLogin, WeChatIdentity
from app.catalog import trail
from app.catalog.models import BrowsingEvent
from app.claims.models import OPEN, Claim
from app.core.clock import format_local
from app.extensions import db
from app.orders.models import Order, Policy
from app.purchase.models import Application, SavedCarQuote
from app.purchase.reminders import stop_reminders
from app.vouchers.models import Voucher

# Contact data

def contact(user):
    address = json.loads(user.address) if user.address else {}
    return {"mobile": user.mobile or "", "email": user.email or "", **{
        k: address.get(k, "") for k in ("province", "city", "district", "detail")}}


def save_contact(user, *, mobile, email, province, city, district, detail):
    user.mobile, user.email = mobile or None, email or None
    parts = {"province": province, "city": city, "district": district, "detail": detail}
    user.address = json.dumps(parts, ensure_ascii=False) if any(parts.values()) else None


# Privacy switches

def record_choice(user, setting, enabled, *, now, ip, user_agent, channel):
    db.session.add(PrivacyChoice(user_id=user.id, setting=setting, enabled=enabled, at=now, ip=ip,
                                 user_agent=user_agent[:400], channel=channel))


def set_personalization(user, enabled):
    """Off: nothing is recorded from now on, and the trail so far is deleted. Returns rows deleted."""
    user.personalization_enabled = enabled
    return 0 if enabled else trail.forget(user.id)


def set_promotions(user, enabled):
    user.promotions_enabled = enabled


def set_reminders(user, enabled):
    """Off deletes the saved breakpoints (as promised). Returns how many were deleted."""
    if enabled:
        user.reminders_enabled = True
        return 0
    return stop_reminders(user)


def choices_of(user_id):
    return db.session.scalars(select(PrivacyChoice).where(PrivacyChoice.user_id == user_id)
                              .order_by(PrivacyChoice.at.desc(), PrivacyChoice.id.desc())).all()


# Logins

def recent_logins(user_id, limit=5):
    return db.session.scalars(select(LoginEvent).where(LoginEvent.user_id == user_id)
                              .order_by(LoginEvent.at.desc(), LoginEvent.id.desc()).limit(limit)).all()


# 我的数据: a copy of everything

def _time(value):
    return format_local(value, "%Y-%m-%d %H:%M:%S") if value else None


def export(user, today):
    """Everything we hold about the user, personal information decrypted: for its owner only. A policy's
    status is the one its page shows on ``today``: a code and the same words."""
    def rows(model, *where, order=None):
        return db.session.scalars(select(model).where(*where).order_by(order if order is not None else model.id)).all()

    return {
        "profile": {"nickname": user.nickname, "avatar_url": user.avatar_url, "sex": user.sex_label,
                    "region": user.region, "created_at": _time(user.created_at),
                    "last_login_at": _time(user.last_login_at),
                    "birth_date": user.birth_date.isoformat() if user.birth_date else None,
                    "real_name": user.real_name, "id_number": user.id_number,
                    "wechat": [{"appid": i.appid, "openid": i.openid, "unionid": i.unionid}
                               for i in rows(WeChatIdentity, WeChatIdentity.user_id == user.id)]},
        "contact": contact(user),
        "privacy": {"personalization": user.personalization_enabled, "promotions": user.promotions_enabled,
                    "reminders": user.reminders_enabled},
        "consents": [{"agreement": c.version.agreement.title, "version": c.version.version, "action": c.action,
                      "at": _time(c.at), "ip": c.ip, "channel": c.channel}
                     for c in rows(Consent, Consent.user_id == user.id)],
        "privacy_choices": [{"setting": c.setting, "enabled": c.enabled, "at": _time(c.at), "channel": c.channel}
                            for c in rows(PrivacyChoice, PrivacyChoice.user_id == user.id)],
        "guardian_consents": [{"guardian_name": g.guardian_name, "relationship": g.relationship_to_minor,
                               "at": _time(g.at)}
                              for g in rows(GuardianConsent, GuardianConsent.minor_user_id == user.id)],
        "applications": [{"number": a.number, "product": a.product.name, "status": a.status, "step": a.step,
                          "premium_fen": a.premium_fen, "details": a.details, "updated_at": _time(a.updated_at)}
                         for a in rows(Application, Application.user_id == user.id)],
        "saved_car_quote": [json.loads(q.data) for q in rows(SavedCarQuote, SavedCarQuote.user_id == user.id)],
        "orders": [{"number": o.number, "product": o.product.name, "amount_fen": o.amount_fen, "status": o.status,
                    "created_at": _time(o.created_at), "paid_at": _time(o.paid_at),
                    "transaction_id": o.transaction_id}
                   for o in rows(Order, Order.user_id == user.id)],
        "policies": [{"number": p.number, "product": p.product.name, "plan": p.plan_code,
                      "status": p.state_on(today), "status_text": p.state_text_on(today),
                      "starts_on": p.starts_on.isoformat(), "ends_on": p.ends_on.isoformat(),
                      "premium_fen": p.premium_fen, "details": p.details, "terms": p.versions}
                     for p in rows(Policy, Policy.user_id == user.id)],
        "claims": [{"number": c.number, "policy": c.policy.number, "kind": c.kind, "status": c.status,
                    "event_date": c.event_date.isoformat(), "amount_claimed_fen": c.amount_claimed_fen,
                    "submitted_at": _time(c.submitted_at), "decision": c.decision, "approved_fen": c.approved_fen,
                    "reason": c.reason_text, "paid_at": _time(c.paid_at), "details": c.details,
                    "documents": [{"item": d.item, "name": d.original_name, "type": d.content_type, "size": d.size,
                                   "uploaded_at": _time(d.uploaded_at)} for d in c.documents]}
                   for c in rows(Claim, Claim.user_id == user.id)],
        "conversations": [{"title": c.title, "product_id": c.product_id, "created_at": _time(c.created_at),
                           "messages": [{"role": m.role, "content": m.content, "engine": m.engine,
                                         "citations": m.sources, "produce_id": m.produce_id, "rating": m.rating,
                                         "rating_reason": m.rating_reason, "at": _time(m.created_at)}
                                        for m in c.messages]}
                          for c in rows(Conversation, Conversation.user_id == user.id)],
        "consultations": [{"status": c.status, "created_at": _time(c.created_at), "closed_at": _time(c.closed_at),
                           "rating": c.rating, "rating_comment": c.rating_comment,
                           "messages": [{"sender": m.sender, "content": m.content, "at": _time(m.created_at)}
                                        for m in c.messages]}
                          for c in rows(Consultation, Consultation.user_id == user.id)],
        "vouchers": [{"code": v.code, "offer": v.offer.title, "partner": v.offer.partner.name, "status": v.status,
                      "claimed_at": _time(v.claimed_at), "redeemed_at": _time(v.redeemed_at)}
                     for v in rows(Voucher, Voucher.user_id == user.id)],
        "browsing_trail": [{"product_id": e.product_id, "kind": e.kind, "at": _time(e.at)}
                           for e in rows(BrowsingEvent, BrowsingEvent.user_id == user.id)],
        "logins": [{"at": _time(e.at), "browser": e.browser, "os": e.os, "ip": e.ip}
                   for e in rows(LoginEvent, LoginEvent.user_id == user.id)],
    }


# 注销

KEPT_BY_LAW = ("保单、订单和支付记录（保险合同及交易凭证，法律要求保存）",
               "理赔记录与理赔材料（自保险合同终止起保存5年，保险期间超过1年的保存10年）",
               "协议同意与授权记录（同意的证据）",
               "已核销的权益券记录（与商户结算所需）")
DELETED = ("微信昵称、头像、性别、地区，及与微信账号的关联",
           "实名信息副本、联系方式与地址",
           "未完成的投保单（断点）和保存的车险报价",
           "未提交的理赔申请及其材料",
           "与智能管家的对话和在线客服记录",
           "浏览轨迹和登录记录",
           "未使用的权益券")


def deletion_blocker(user):
    """Why the account cannot be deleted right now (money in flight), or None."""
    busy = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.user_id == user.id, Order.status.in_(("pending", "paid", "refunding"))))
    if busy:
        return "你有待支付或退款处理中的订单，请在订单完成或关闭后再注销"
    claiming = db.session.scalar(select(func.count()).select_from(Claim).where(
        Claim.user_id == user.id, Claim.status.in_(OPEN) | ((Claim.status == "closed") & (Claim.decision != "rejected"))))
    return "你有处理中的理赔，请在理赔结案、赔款到账后再注销" if claiming else None


def delete_account(user, now):
    """注销: delete or anonymise what the law does not make us keep; the account can never log in again
    (its WeChat link is gone; the same WeChat user would start a new, empty account)."""
    uid = user.id
    for model, column in ((BrowsingEvent, BrowsingEvent.user_id), (LoginEvent, LoginEvent.user_id),
                          (SavedCarQuote, SavedCarQuote.user_id), (WeChatIdentity, WeChatIdentity.user_id),
                          (Application, Application.user_id)):  # orders keep their own record
        db.session.execute(delete(model).where(column == uid))
    db.session.execute(delete(Voucher).where(Voucher.user_id == uid, Voucher.status == "unused"))
    db.session.execute(delete(Claim).where(Claim.user_id == uid, Claim.status == "draft"))  # sent ones are kept
    for model in (Conversation, Consultation):  # with their messages (ON DELETE CASCADE)
        db.session.execute(delete(model).where(model.user_id == uid))
    db.session.execute(update(QRLogin).where(QRLogin.requester_user_id == uid).values(payload=""))
    user.status, user.deleted_at = "deleted", now
    user.nickname, user.avatar_url, user.sex, user.province, user.city, user.country = "已注销用户", "", 0, "", "", ""
    user.real_name = user.id_number = user.id_hash = user.mobile = user.email = user.address = None
    user.birth_date = None
    user.reminders_enabled = user.personalization_enabled = user.promotions_enabled = False
    end_all_sessions(user)


def counts(user, now):
    """How many of each the /me links lead to: what each list holds (vouchers: all of them, as
    /me/vouchers lists them, and how many of those can still be used at ``now``)."""
    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))
    return {"policies": count(Policy, Policy.user_id == user.id),
            "applications": count(Application, Application.user_id == user.id, Application.status == "draft"),
            "vouchers": count(Voucher, Voucher.user_id == user.id),
            "vouchers_usable": count(Voucher, Voucher.user_id == user.id, Voucher.status == "unused",
                                     Voucher.expires_at > now),
            "consents": count(Consent, Consent.user_id == user.id)}
