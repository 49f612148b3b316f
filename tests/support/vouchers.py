"""Vouchers: claiming as a user, redeeming as a partner's staff member (a browser of its own).
Fixtures: ``make_offer``, ``staff_of``."""
import itertools
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.core.clock import db_now, today_local
from app.extensions import db
from app.vouchers import staff as staff_auth
from app.vouchers.models import Offer, Partner, PartnerStaff, Store
from tests.support.web import field, token

PASSWORD = "correct horse battery"
_staff_numbers = itertools.count()


@pytest.fixture()
def make_offer(app):
    """A fresh offer of a demo partner, so tests do not share stock."""
    def make(partner="jiechi", **values):
        with app.app_context():
            partner_id = db.session.scalar(select(Partner.id).where(Partner.slug == partner))
            today = today_local()
            offer = Offer(**{"partner_id": partner_id, "kind": "carwash", "title": "测试洗车券", "service": "洗车一次",
                             "stock_total": 100, "stock_left": 100, "per_user_limit": 1, "starts_on": today,
                             "ends_on": today + timedelta(days=30), "valid_days": 30, "settlement_fen": 2500, "position": 100,
                             **values})
            db.session.add(offer)
            db.session.commit()
            return offer.id
    return make


def claim(client, offer_id, agree=True):
    """Open the offer and press 立即领取 (ticking the partner's agreement when it is asked for)."""
    page = client.get(f"/offers/{offer_id}").get_data(as_text=True)
    data = {"csrf_token": token(page), "submission": field(page, "submission"),
            "agreement_version": field(page, "agreement_version")}
    if agree and 'name="agreement"' in page:
        data["agreement"] = "y"
    return client.post(f"/offers/{offer_id}/claim", data=data)


def claimed_code(client, offer_id):
    response = claim(client, offer_id)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return response.headers["Location"].rsplit("/", 1)[1]


@pytest.fixture()
def staff_of(app):
    """A staff member of a store (by store name), signed in with their own browser."""
    made = []

    def make(store_name="洁驰洗车·北京朝阳店", username=None):
        with app.app_context():
            store = db.session.scalar(select(Store).where(Store.name == store_name))
            # Numbered in this process: the clock is fixed and a list's id() is reused once it is freed.
            username = username or f"staff-{next(_staff_numbers)}-{store.id}-{db_now().timestamp()}-{id(made)}"
            staff = PartnerStaff(store_id=store.id, username=username[:40], display_name="测试店员",
                                 password_hash=staff_auth.hash_password(PASSWORD),
                                 session_token=staff_auth.new_session_token(), created_at=db_now())
            db.session.add(staff)
            db.session.commit()
            staff_id, username = staff.id, staff.username
        client = app.test_client()
        page = client.get("/partner/login").get_data(as_text=True)
        response = client.post("/partner/login", data={"csrf_token": token(page), "username": username,
                                                       "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        made.append(staff_id)
        return SimpleNamespace(client=client, id=staff_id, username=username, store=store_name)
    return make


def redeem(staff, code):
    page = staff.client.get(f"/partner/redeem?code={code}").get_data(as_text=True)
    return staff.client.post(f"/partner/redeem/{code}", data={"csrf_token": token(page)})
