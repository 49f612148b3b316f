"""The WeChat Pay notification endpoint: only a verified, fresh, matching notification moves an order,
and only once. Refusals are logged without personal data; none of it answers 500."""
import json
import logging
from base64 import b64decode, b64encode

from app.orders import services
from tests.support.clock import CLOCK
from tests.support.identity import ME
from tests.support.pay import notification, order_row, place_order, policies, transaction


def ready(customer, pay):
    """An order whose transaction exists at the fake and is not paid."""
    number = place_order(customer.client)
    customer.client.get(f"/orders/{number}/pay")
    return number


def post(client, body, headers):
    return client.post("/pay/wechat/notify", data=body.encode(), headers=headers)


def test_a_valid_notification_issues_the_policy_and_a_duplicate_is_acknowledged_and_ignored(app, client, customer,
                                                                                             pay):
    number = ready(customer, pay)
    body, headers = notification(app, pay, transaction(app, pay, number))
    assert post(client, body, headers).status_code == 204
    assert post(client, body, headers).status_code == 204  # WeChat Pay's retry of the same notification
    assert order_row(app, number).status == "issued" and policies(app, number) == 1


def test_refused_notifications_leave_the_order_unpaid(app, client, customer, pay, caplog):
    number = ready(customer, pay)
    caplog.set_level(logging.INFO)
    body, headers = notification(app, pay, transaction(app, pay, number))

    tampered = body.replace('"summary": "支付成功"', '"summary": "支付成功 "')
    assert post(client, tampered, headers).status_code == 401  # the signature no longer matches

    stale_body, _ = notification(app, pay, transaction(app, pay, number))
    stale_headers = {"Content-Type": "application/json",
                     **pay.state.signature_headers(stale_body, timestamp=int(CLOCK().timestamp()) - 301)}
    assert post(client, stale_body, stale_headers).status_code == 401  # a replay from more than 5 minutes ago

    signtest = dict(headers, **{"Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]})
    assert post(client, body, signtest).status_code == 401

    event = json.loads(body)
    sealed = bytearray(b64decode(event["resource"]["ciphertext"]))
    sealed[-1] ^= 1  # a broken GCM tag, correctly signed
    event["resource"]["ciphertext"] = b64encode(bytes(sealed)).decode()
    broken = json.dumps(event, ensure_ascii=False)
    with app.app_context():
        assert post(client, broken, {"Content-Type": "application/json",
                                     **pay.state.signature_headers(broken)}).status_code == 401

    for changes in ({"amount": {"total": 1, "payer_total": 1, "currency": "CNY"}}, {"mchid": "1900000000"},
                    {"appid": "wx0000000000000000"}, {"trade_state": "NOTPAY"}):
        body, headers = notification(app, pay, transaction(app, pay, number, **changes))
        assert post(client, body, headers).status_code == 400, changes

    body, headers = notification(app, pay, transaction(app, pay, number, out_trade_no="DD20261125999999999"))
    assert post(client, body, headers).status_code == 404  # an order we never made
    assert post(client, "not json", headers).status_code == 401
    assert client.post("/pay/wechat/notify", data=b"").status_code == 401

    assert order_row(app, number).status == "pending" and policies(app, number) == 0
    assert "does not match" in caplog.text and "amount" in caplog.text
    assert ME not in caplog.text and "张伟" not in caplog.text


def test_a_notification_our_server_failed_is_retried_and_applied_once(app, customer, pay, monkeypatch):
    number = ready(customer, pay)
    record = services.record_payment
    calls = []

    def failing_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return record(*args)
    monkeypatch.setattr(services, "record_payment", failing_once)
    pay.state.pay(number)
    assert pay.state.deliveries[-1]["status"] == 500 and order_row(app, number).status == "pending"
    assert pay.state.redeliver() == [True]  # WeChat Pay tries again
    assert pay.state.redeliver() == []
    assert order_row(app, number).status == "issued" and policies(app, number) == 1
