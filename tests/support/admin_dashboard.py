"""What the back office's screens for the dashboard and personal-data exports need in tests: route arguments for the property test
(``tests.support.admin.argument``), its form baselines, and fixtures."""
import itertools
import secrets
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.catalog.models import Product
from app.core.clock import SHANGHAI
from app.core.pii import keyed_hash
from app.extensions import db
from app.orders.models import Order
from app.purchase.models import Application
from app.vouchers.models import Offer, Voucher
from app.vouchers.services import new_code
from tests.support.admin import BASELINES

BASELINES.update({"DataExportForm": {"export-reason": "用户申请导出个人信息"}})

_serial = itertools.count(1)


def shanghai(*parts):
    """A Shanghai wall-clock time (year, month, day, hour, minute, second) as the naive UTC the columns hold."""
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


@pytest.fixture()
def activity(app):
    """Business rows made directly at given times (naive UTC), for the dashboard's figures: an application
    started, an order created (and paid, and refunded), a voucher claimed (and redeemed). The flows that make
    them are tested in their own folders."""
    with app.app_context():
        user = User(nickname="看板测试", created_at=datetime(2020, 1, 1))
        db.session.add(user)
        db.session.commit()
        user_id = user.id
        product_id = db.session.scalar(select(Product.id).where(Product.slug == "anxin-million-medical"))
        offer_id = db.session.scalar(select(Offer.id).order_by(Offer.id).limit(1))

    def number(prefix):
        return f"{prefix}{next(_serial):06d}{secrets.randbelow(10**10):010d}"

    def add(row):
        with app.app_context():
            db.session.add(row)
            db.session.commit()

    def application(at):
        add(Application(number=number("TA"), user_id=user_id, product_id=product_id, plan_code="basic",
                        created_at=at, updated_at=at))

    def order(at, *, paid=None, refunded=None, amount_fen=35600):
        status = "refunded" if refunded else "issued" if paid else "pending"
        add(Order(number=number("TD"), idempotency_key=secrets.token_urlsafe(24), user_id=user_id,
                  product_id=product_id, plan_code="basic", frequency="annual", amount_fen=amount_fen, status=status,
                  created_at=at, expires_at=at + timedelta(minutes=30), paid_at=paid, refunded_at=refunded))

    def voucher(at, *, redeemed=None):
        with app.app_context():
            code = new_code()
            add(Voucher(offer_id=offer_id, user_id=user_id, seq=next(_serial), code=code, code_hash=keyed_hash(code),
                        status="used" if redeemed else "unused", claimed_at=at, expires_at=at + timedelta(days=30),
                        redeemed_at=redeemed))

    return SimpleNamespace(application=application, order=order, voucher=voucher, user_id=user_id)
