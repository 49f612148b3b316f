"""Every transition of the QR login state machine, and every refusal (app/auth/qrlogin.py)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import qrlogin
from app.auth.models import QRLogin, User
from app.auth.qrlogin import QRLoginError
from app.auth.wechat import WeChatProfile
from app.core.clock import db_now
from app.extensions import db

ME = WeChatProfile(appid="wxtest", openid="o-me", unionid="u-me", nickname="我", sex=1)
OTHER = WeChatProfile(appid="wxtest", openid="o-other", unionid="u-other", nickname="别人")


@pytest.fixture()
def new_login(ctx):
    def make():
        qr, token, nonce = qrlogin.create_login(next_url="/", browser="Chrome 120", os="Windows 10",
                                                masked_ip="203.0.113.*", now=db_now())
        db.session.commit()
        return qr, token, nonce
    return make


def test_a_new_login_is_pending_and_its_secrets_are_stored_hashed(new_login):
    qr, token, nonce = new_login()
    assert qr.status == "pending" and qr.expires_at - qr.created_at == timedelta(seconds=120)
    assert len(token) >= 43 and token not in (qr.token_hash, qr.nonce_hash)  # ≥ 256 bits, never stored
    assert qr.token_hash == qrlogin.hash_secret(token)
    assert qrlogin.find_by_token(token).id == qr.id and qrlogin.find_by_token(token + "x") is None


def test_only_the_browser_holding_the_nonce_finds_its_login(new_login):
    qr, _, nonce = new_login()
    assert qrlogin.find_for_browser(qr.public_id, nonce).id == qr.id
    assert qrlogin.find_for_browser(qr.public_id, "someone-else") is None
    assert qrlogin.find_for_browser(qr.public_id, None) is None
    assert qrlogin.find_for_browser("no-such-id", nonce) is None


def test_the_token_is_derived_from_the_browsers_nonce(new_login):
    qr, token, nonce = new_login()
    assert qrlogin.derive_token(qr.public_id, nonce) == token
    assert qrlogin.derive_token(qr.public_id, nonce + "x") != token


def test_pending_scanned_confirmed_consumed(new_login):
    qr, _, _ = new_login()
    qrlogin.scan(qr, ME, db_now())
    assert qr.status == "scanned" and qr.scanner_nickname == "我" and qr.user_id is None
    qrlogin.scan(qr, ME, db_now())  # the same phone coming back is no change
    user = qrlogin.confirm(qr, ME.openid, db_now())
    assert qr.status == "confirmed" and qr.user_id == user.id and user.nickname == "我"
    assert qrlogin.consume(qr, db_now()).id == user.id and qr.status == "consumed"


@pytest.mark.parametrize("step", ["scan", "confirm", "cancel", "consume"])
def test_nothing_moves_a_consumed_login(new_login, step):
    qr, _, _ = new_login()
    qrlogin.scan(qr, ME, db_now())
    qrlogin.confirm(qr, ME.openid, db_now())
    qrlogin.consume(qr, db_now())
    with pytest.raises(QRLoginError) as refused:
        {"scan": lambda: qrlogin.scan(qr, ME, db_now()),
         "confirm": lambda: qrlogin.confirm(qr, ME.openid, db_now()),
         "cancel": lambda: qrlogin.cancel(qr, ME.openid, db_now()),
         "consume": lambda: qrlogin.consume(qr, db_now())}[step]()
    assert refused.value.reason == "consumed" and "已使用" in refused.value.message


def test_confirm_and_consume_need_the_state_before_them(new_login):
    qr, _, _ = new_login()
    with pytest.raises(QRLoginError):
        qrlogin.consume(qr, db_now())  # pending
    with pytest.raises(QRLoginError):
        qrlogin.confirm(qr, ME.openid, db_now())  # nobody scanned
    qrlogin.scan(qr, ME, db_now())
    with pytest.raises(QRLoginError):
        qrlogin.consume(qr, db_now())  # scanned, not confirmed
    assert qr.status == "scanned"


def test_only_the_scanner_may_confirm_or_cancel(new_login):
    qr, _, _ = new_login()
    qrlogin.scan(qr, ME, db_now())
    for step in (qrlogin.confirm, qrlogin.cancel):
        with pytest.raises(QRLoginError) as refused:
            step(qr, OTHER.openid, db_now())
        assert refused.value.reason == "other_scanner"
    with pytest.raises(QRLoginError) as refused:
        qrlogin.scan(qr, OTHER, db_now())
    assert "其他微信" in refused.value.message and qr.status == "scanned"


def test_cancel_needs_a_scan_and_ends_the_login(new_login):
    qr, _, _ = new_login()
    with pytest.raises(QRLoginError):
        qrlogin.cancel(qr, ME.openid, db_now())
    qrlogin.scan(qr, ME, db_now())
    qrlogin.cancel(qr, ME.openid, db_now())
    assert qr.status == "cancelled"
    with pytest.raises(QRLoginError) as refused:
        qrlogin.scan(qr, ME, db_now())
    assert refused.value.reason == "cancelled"


@pytest.mark.parametrize("state", ["pending", "scanned", "confirmed"])
def test_open_logins_expire_after_the_ttl(new_login, clock, state):
    qr, _, _ = new_login()
    if state != "pending":
        qrlogin.scan(qr, ME, db_now())
    if state == "confirmed":
        qrlogin.confirm(qr, ME.openid, db_now())
    clock.advance(seconds=119)
    assert qrlogin.status_of(qr, db_now()) == state
    clock.advance(seconds=1)
    assert qrlogin.status_of(qr, db_now()) == "expired"
    assert db.session.scalar(select(QRLogin.status).where(QRLogin.id == qr.id)) == "expired"
    with pytest.raises(QRLoginError) as refused:
        qrlogin.consume(qr, db_now())
    assert refused.value.reason == "expired" and "过期" in refused.value.message


def test_a_transition_at_the_deadline_is_refused_even_before_anyone_polls(new_login, clock):
    qr, _, _ = new_login()
    clock.advance(seconds=120)
    with pytest.raises(QRLoginError) as refused:
        qrlogin.scan(qr, ME, db_now())
    assert refused.value.reason == "expired"


def test_finished_logins_do_not_expire(new_login, clock):
    qr, _, _ = new_login()
    qrlogin.scan(qr, ME, db_now())
    qrlogin.cancel(qr, ME.openid, db_now())
    clock.advance(minutes=10)
    assert qrlogin.status_of(qr, db_now()) == "cancelled"


def test_confirm_by_a_banned_account_cancels_the_login(new_login):
    qr, _, _ = new_login()
    qrlogin.scan(qr, OTHER, db_now())
    user = qrlogin.confirm(qr, OTHER.openid, db_now())
    user.status = "banned"
    db.session.commit()
    qr2, _, _ = new_login()
    qrlogin.scan(qr2, OTHER, db_now())
    with pytest.raises(QRLoginError) as refused:
        qrlogin.confirm(qr2, OTHER.openid, db_now())
    assert refused.value.reason == "banned" and qr2.status == "cancelled" and qr2.refusal == "banned"
    assert db.session.get(User, user.id).status == "banned"
