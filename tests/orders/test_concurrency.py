"""Races, with real threads against the live server (a file database, or PostgreSQL under
TEST_DATABASE_URL): double confirms, twin notifications, a poll racing a notification, a crowd of pay
pages. Each must end with one order, one policy, one transaction."""
import re

import requests
from sqlalchemy import func, select

from app.extensions import db
from app.orders.models import Order, Policy
from app.purchase.models import Application
from tests.support.concurrency import at_once, http_session
from tests.support.pay import notification, order_row, place_order, policies, transaction
from tests.support.purchase import Buyer
from tests.support.web import token


def confirm_at_once(app, live_server, customer, same_key):
    buyer = Buyer(customer.client)
    buyer.through(5)
    pages = [buyer.page(6)[1] for _ in range(2)]
    keys = [re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1) for page in pages]
    session = http_session(customer.client)
    url = f"{live_server}/buy/{buyer.slug}/{buyer.number}/6"
    answers = at_once(2, lambda i: session.post(url, allow_redirects=False, timeout=30, data={
        "csrf_token": token(pages[i]), "acknowledged": "y", "idempotency_key": keys[0 if same_key else i]}))
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.number == buyer.number))
        return db.session.scalar(select(func.count()).select_from(Order).where(Order.application_id == application.id))


def test_two_confirms_at_once_make_one_order(app, live_server, customer):
    assert confirm_at_once(app, live_server, customer, same_key=True) == 1


def test_two_tabs_confirming_at_once_make_one_order(app, live_server, customer):
    assert confirm_at_once(app, live_server, customer, same_key=False) == 1


def test_two_notifications_at_once_issue_one_policy(app, live_server, customer, pay):
    number = place_order(customer.client)
    customer.client.get(f"/orders/{number}/pay")
    body, headers = notification(app, pay, transaction(app, pay, number))
    answers = at_once(2, lambda i: requests.post(f"{live_server}/pay/wechat/notify", data=body.encode(),
                                                  headers=headers, timeout=30))
    assert [a.status_code for a in answers] == [204, 204]
    assert policies(app, number) == 1 and order_row(app, number).status == "issued"


def test_a_poll_racing_the_notification_issues_one_policy(app, live_server, customer, pay, clock, monkeypatch):
    number = place_order(customer.client)
    customer.client.get(f"/orders/{number}/pay")
    monkeypatch.setitem(pay.state.transaction(number), "notify_url", "http://127.0.0.1:9/late")
    pay.state.pay(number)  # paid; the notification is late
    body, headers = notification(app, pay, pay.state.public_transaction(pay.state.transaction(number)))
    clock.advance(seconds=11)  # the poll will ask WeChat Pay
    session = http_session(customer.client)
    answers = at_once(2, lambda i: (
        session.get(f"{live_server}/orders/{number}/status", headers={"HX-Request": "true"}, timeout=30) if i == 0
        else requests.post(f"{live_server}/pay/wechat/notify", data=body.encode(), headers=headers, timeout=30)))
    assert answers[0].status_code == 200 and answers[1].status_code == 204
    assert policies(app, number) == 1 and order_row(app, number).status == "issued"


def test_fifty_pay_pages_at_once_make_one_transaction(app, live_server, customer, pay):
    number = place_order(customer.client)
    session = http_session(customer.client)
    pages = at_once(50, lambda i: session.get(f"{live_server}/orders/{number}/pay", timeout=60))
    assert {page.status_code for page in pages} == {200}
    qr_images = {re.search(r'class="qr-image" src="([^"]+)"', page.text).group(1) for page in pages}
    assert len(qr_images) == 1  # every page shows the same QR
    assert [key for key in pay.state.transactions if key[1] == number] == [(pay.state.keys.mchid, number)]
    assert order_row(app, number).code_url == pay.state.transaction(number)["code_url"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Policy).join(Order).where(
            Order.number == number)) == 0
