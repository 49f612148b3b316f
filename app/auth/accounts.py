"""Accounts from WeChat identities: found by unionid, else by openid within our appid; created on first
login; the WeChat profile (nickname, avatar, gender, region) copied in on every login.

Flushes at most; the view commits.
"""
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import LoginEvent, User, WeChatIdentity, new_session_token
from app.auth.wechat import WeChatProfile
from app.extensions import db


def find_identity(profile: WeChatProfile):
    """This app's identity for the openid, or any identity sharing the unionid."""
    same_app = (WeChatIdentity.appid == profile.appid) & (WeChatIdentity.openid == profile.openid)
    condition = or_(same_app, WeChatIdentity.unionid == profile.unionid) if profile.unionid else same_app
    identities = db.session.scalars(select(WeChatIdentity).where(condition)).all()
    return next((i for i in identities if i.appid == profile.appid and i.openid == profile.openid),
                identities[0] if identities else None)


def sync_wechat_user(profile: WeChatProfile, now) -> User:
    """The account of this WeChat user, created if new, with the profile brought up to date."""
    try:
        with db.session.begin_nested():
            user = _find_or_create(profile, now)
    except IntegrityError:
        # The same person's first login raced another one; that one created the account.
        user = _find_or_create(profile, now)
    user.nickname = profile.nickname or user.nickname
    user.avatar_url = profile.headimgurl or user.avatar_url
    user.sex = profile.sex
    user.province, user.city, user.country = profile.province, profile.city, profile.country
    user.last_login_at = now
    return user


def _find_or_create(profile, now):
    identity = find_identity(profile)
    if identity is None:
        user = User(created_at=now)
        db.session.add(user)
        db.session.add(WeChatIdentity(user=user, appid=profile.appid, openid=profile.openid,
                                      unionid=profile.unionid, created_at=now))
    else:
        user = identity.user
        if (identity.appid, identity.openid) != (profile.appid, profile.openid):
            db.session.add(WeChatIdentity(user=user, appid=profile.appid, openid=profile.openid,
                                          unionid=profile.unionid, created_at=now))
        elif profile.unionid and not identity.unionid:
            identity.unionid = profile.unionid
    db.session.flush()
    return user


def record_login(user: User, *, browser, os, ip, now):
    """The login history /me shows: when, and on what (browser, system, masked IP): the desktop as the
    phone saw it, or the phone itself inside WeChat."""
    db.session.add(LoginEvent(user_id=user.id, at=now, browser=browser[:80], os=os[:80], ip=ip))


def end_all_sessions(user: User):
    """Logout: a new session token makes every cookie naming the old one worthless."""
    user.session_token = new_session_token()


def load_user(session_token):
    """Flask-Login's loader: only active accounts have a session."""
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    return user if user is not None and user.is_active else None
