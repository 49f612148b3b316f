"""What the back office's screens for partners, stores, offers and partner staff need in tests: route arguments for the property test
(``tests.support.admin.argument``), its form baselines, and fixtures."""
import itertools
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.core.clock import db_now, today_local
from app.extensions import db
from app.vouchers import manage
from app.vouchers import staff as staff_auth
from app.vouchers.models import Offer, Partner, PartnerStaff
from tests.support.admin import BASELINES, argument

SLUG = "hostile-partner"  # the property test's partner, made once: its forms' baselines name its agreement and city
_numbers = itertools.count(1)


def the_partner(app):
    """A partner of the tests' own with one store in 北京: made through the service (with its agreement) once."""
    with app.app_context():
        partner = db.session.scalar(select(Partner).where(Partner.slug == SLUG))
        if partner is None:
            partner = manage.create_partner(None, slug=SLUG, name="测试商户", kind="carwash", description="",
                                            now=db_now(), ip="")
            manage.create_store(None, partner, name="测试商户·北京店", city="北京", address="北京市朝阳区测试路1号",
                                phone="010-12345678", now=db_now(), ip="")
            db.session.commit()
        return SimpleNamespace(id=partner.id, store_id=partner.stores[0].id, slug=SLUG)


def new_partner_staff(app, store_id, username=None):
    """A partner staff account (the demo's password) at the store: its id and username."""
    with app.app_context():
        staff = PartnerStaff(store_id=store_id, username=username or f"p-staff-{next(_numbers)}-{db_now():%H%M%S%f}",
                             display_name="测试店员", password_hash=staff_auth.hash_password("correct horse battery"),
                             session_token=staff_auth.new_session_token(), created_at=db_now())
        db.session.add(staff)
        db.session.commit()
        return SimpleNamespace(id=staff.id, username=staff.username)


def new_offer(app, partner_id, **values):
    with app.app_context():
        today = today_local()
        offer = Offer(**{"partner_id": partner_id, "kind": "carwash", "title": "后台测试券", "service": "洗车一次",
                         "stock_total": 100, "stock_left": 100, "per_user_limit": 1, "starts_on": today,
                         "ends_on": today + timedelta(days=30), "valid_days": 30, "position": 100, **values})
        db.session.add(offer)
        db.session.commit()
        return offer.id


argument("partner_id")(lambda world: the_partner(world.app).id)
argument("store_id")(lambda world: the_partner(world.app).store_id)
argument("partner_staff_id")(lambda world: new_partner_staff(world.app, the_partner(world.app).store_id).id)
argument("offer_id")(lambda world: new_offer(world.app, the_partner(world.app).id))

_OFFER = {"title": "测试活动", "service": "洗车一次", "terms": "每人限领1张", "price": "9.9", "settlement": "15",
          "stock_total": "100", "per_user_limit": "1", "valid_days": "30", "starts_on": "2026-11-25",
          "ends_on": "2026-12-25", "cities": "北京", "required_category": ""}
BASELINES.update({
    "NewPartnerForm": {"slug": "hostile-new", "name": "新测试商户", "kind": "carwash", "description": "测试"},
    "PartnerForm": {"name": "测试商户", "kind": "carwash", "description": "测试", "agreement_kind": f"partner-{SLUG}"},
    "StoreForm": {"name": "测试商户·新店", "city": "北京", "address": "北京市海淀区测试路2号", "phone": "010-12345679"},
    "PartnerStaffForm": {"username": "hostile-store-staff", "display_name": "新店员"},
    "OfferForm": _OFFER,
    "NewOfferForm": {**_OFFER, "partner": SLUG},
})


@pytest.fixture()
def partner_world(app):
    """The tests' partner (one store in 北京), for the back office's tests."""
    return the_partner(app)


@pytest.fixture()
def make_partner_staff(app):
    return lambda store_id, **kwargs: new_partner_staff(app, store_id, **kwargs)
