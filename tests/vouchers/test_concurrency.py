"""Races with real threads against the live server (a file database, or PostgreSQL): one redemption
of a code however many stores try at once, no oversold stock, no second voucher from a double click."""
from sqlalchemy import func, select

from app.extensions import db
from app.vouchers.models import Offer, Voucher
from tests.support.agreements import accepted_user
from tests.support.concurrency import at_once, http_session
from tests.support.vouchers import claimed_code
from tests.support.web import field, token


def test_fifty_redemptions_of_one_code_from_two_stores_succeed_once(app, live_server, customer, staff_of, make_offer):
    code = claimed_code(customer.client, make_offer())
    staff = [staff_of("洁驰洗车·北京朝阳店"), staff_of("洁驰洗车·北京海淀店")]
    tokens = [token(s.client.get("/partner/redeem").get_data(as_text=True)) for s in staff]
    sessions = [http_session(s.client) for s in staff]
    answers = at_once(50, lambda i: sessions[i % 2].post(
        f"{live_server}/partner/redeem/{code}", data={"csrf_token": tokens[i % 2]}, timeout=60))
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 1 and statuses.count(409) == 49
    winner = answers[statuses.index(200)].text
    assert "核销成功" in winner
    assert all("已于 2026-11-25 10:00 在 洁驰洗车·北京" in a.text for a in answers if a.status_code == 409)
    with app.app_context():
        assert db.session.scalar(select(Voucher.status).where(Voucher.offer_id == _offer_of(code))) == "used"


def _offer_of(code):
    from app.vouchers.services import by_code
    return by_code(code).offer_id


def test_fifty_users_claiming_a_stock_of_ten_get_ten_vouchers(app, live_server, member, make_offer):
    offer_id = make_offer("lanjing", stock_total=10, stock_left=10)
    users = [accepted_user(member, nickname=f"抢券用户{i}") for i in range(50)]
    forms = []
    for user in users:
        page = user.client.get(f"/offers/{offer_id}").get_data(as_text=True)
        forms.append({"csrf_token": token(page), "submission": field(page, "submission"),
                      "agreement_version": field(page, "agreement_version"), "agreement": "y"})
    sessions = [http_session(user.client) for user in users]
    answers = at_once(50, lambda i: sessions[i].post(f"{live_server}/offers/{offer_id}/claim", data=forms[i],
                                                      allow_redirects=False, timeout=60))
    statuses = [a.status_code for a in answers]
    assert statuses.count(302) == 10 and statuses.count(422) == 40
    assert all("已领完" in a.text for a in answers if a.status_code == 422)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Voucher).where(Voucher.offer_id == offer_id)) == 10
        assert db.session.get(Offer, offer_id).stock_left == 0


def test_a_double_click_on_a_limit_one_offer_gives_one_voucher(app, live_server, customer, make_offer):
    offer_id = make_offer()
    page = customer.client.get(f"/offers/{offer_id}").get_data(as_text=True)
    form = {"csrf_token": token(page), "submission": field(page, "submission"),
            "agreement_version": field(page, "agreement_version"), "agreement": "y"}
    session = http_session(customer.client)
    answers = at_once(5, lambda i: session.post(f"{live_server}/offers/{offer_id}/claim", data=form,
                                                 allow_redirects=False, timeout=60))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(302) == 1 and all(status in (409, 422) for status in statuses if status != 302)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Voucher).where(
            Voucher.offer_id == offer_id, Voucher.user_id == customer.id)) == 1
        assert db.session.get(Offer, offer_id).stock_left == 99  # the refused click gave its stock back
