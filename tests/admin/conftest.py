"""Back-office fixtures: staff accounts made directly (roles, an enrolled TOTP secret), and signed in the way a
browser does (password, then a code from pyotp at the injected clock's time: tests/support/admin.py's Browser)."""
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.core.clock import db_now
from app.extensions import db
from tests.support.admin import Browser, new_staff
from tests.support.admin_browser import WIDTHS
from tests.support.rates import copy_product, off_sale


@pytest.fixture(autouse=True)
def admin_limits(app, monkeypatch):
    """Generous limits, except in the tests of the limits themselves (which set their own)."""
    monkeypatch.setitem(app.config, "RATELIMIT_ADMIN_LOGIN", "100000 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_ADMIN_LOOKUP", "100000 per minute")


@pytest.fixture()
def make_staff(app):
    """A new staff account: make_staff("support", "admin", enrolled=True, must_change=False)."""
    return lambda *roles, **kwargs: new_staff(app, *roles, **kwargs)


@pytest.fixture()
def staff_browser(app, clock):
    return lambda: Browser(app, clock)


@pytest.fixture()
def signed_in(app, clock, make_staff):
    """A browser signed in as a new staff member with ``roles``: (browser, staff)."""
    def make(*roles):
        staff = make_staff(*roles)
        return Browser(app, clock).sign_in(staff), staff
    return make


@pytest.fixture()
def business(app):
    """What a user support looks up holds: an application saved through its service (the applicant's mobile),
    an order, its policy and a voucher, made directly (the flows themselves are tested in their folders)."""
    import json
    import secrets
    from datetime import timedelta

    from stdnum.cn import ric

    from app.auth.models import User
    from app.catalog.models import Product
    from app.core.clock import today_local
    from app.core.pii import keyed_hash
    from app.orders.models import Order, Policy
    from app.purchase import applications
    from app.vouchers.models import Offer, Voucher
    from app.vouchers.services import new_code

    def make(user_id, *, mobile="13800138000", name="张伟", slug="anxin-million-medical"):
        body = "11010519900307" + f"{secrets.randbelow(1000):03d}"
        id_number = body + ric.calc_check_digit(body)
        with app.app_context():
            now, today = db_now(), today_local()
            user = db.session.get(User, user_id)
            product = db.session.scalar(select(Product).where(Product.slug == slug))
            application = applications.start_or_resume(user, product, today, now)
            applications.save_applicant(application, user, name=name, id_number=id_number, mobile=mobile, email="",
                                        province="广东", city="深圳", district="南山区", address="科技园路1号",
                                        today=today, now=now)
            digits = f"{secrets.randbelow(10**10):010d}"
            order = Order(number=f"DD{today:%Y%m%d}{digits}", idempotency_key=secrets.token_urlsafe(24), user_id=user_id,
                          application_id=application.id, product_id=product.id, plan_code=application.plan_code,
                          frequency="annual", amount_fen=35600, status="issued", created_at=now,
                          expires_at=now + timedelta(minutes=30), paid_at=now)
            db.session.add(order)
            db.session.flush()
            policy = Policy(number=f"P{today:%Y%m%d}{digits}", order_id=order.id, user_id=user_id, product_id=product.id,
                            plan_code=order.plan_code, frequency="annual", premium_fen=35600, starts_on=today,
                            ends_on=today + timedelta(days=364), issued_at=now, data=json.dumps({}), terms=json.dumps({}))
            code = new_code()
            offer = db.session.scalar(select(Offer).order_by(Offer.id).limit(1))
            voucher = Voucher(offer_id=offer.id, user_id=user_id, seq=1, code=code, code_hash=keyed_hash(code),
                              claimed_at=now, expires_at=now + timedelta(days=30))
            db.session.add_all([policy, voucher])
            db.session.commit()
            return SimpleNamespace(application=application.number, order=order.number, policy=policy.number,
                                   voucher=code, id_number=id_number)
    return make


@pytest.fixture()
def site(app, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "SITE_URL", live_server)
    return live_server


@pytest.fixture(params=list(WIDTHS), ids=[f"{w}px" for w in WIDTHS])
def width(request):
    return request.param


@pytest.fixture()
def product(app):
    """A product of the test's own, on sale with a rate table (a copy of a demo product: a new price never
    reaches another test), taken off sale after it (the catalog's tests count what is on sale)."""
    made = copy_product(app)
    yield made
    off_sale(app, made)
