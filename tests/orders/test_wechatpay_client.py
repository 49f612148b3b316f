"""The WeChat Pay client (our adapter over the wechatpayv3 SDK) against the fake WeChat Pay on a
loopback port: the protocol both ways, WeChat Pay's refusals, and answers a client must not trust."""
import json
import socket
from datetime import timedelta

import pytest
import requests
from wechatpayv3.utils import build_authorization, load_private_key

from app.payments import PayError
from app.payments.simulator import SimulatorKeys
from tests.support.clock import CLOCK
from tests.support.pay import client_for, out_trade_no


def create(client, number, total=29000):
    return client.create_native(out_trade_no=number, description="安心百万医疗-基础版", total_fen=total,
                                time_expire=CLOCK() + timedelta(minutes=30))


@pytest.fixture()
def fake(fake_pay):
    yield fake_pay
    fake_pay.state.fail_next.clear()
    fake_pay.state.undelivered.clear()


def test_a_native_transaction_gives_a_code_url_and_the_same_fields_find_it_again(fake):
    client = client_for(fake)
    number = out_trade_no()
    code_url = create(client, number)
    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")
    assert create(client, number) == code_url  # a retry, a second page: the same transaction
    trade = fake.state.transaction(number)
    assert trade["amount"]["total"] == 29000 and trade["description"] == "安心百万医疗-基础版"
    assert trade["expires"] == (CLOCK() + timedelta(minutes=30)).replace(microsecond=0)
    with pytest.raises(PayError) as refused:
        create(client, number, total=100)  # the same number with another amount
    assert (refused.value.status, refused.value.code) == (403, "OUT_TRADE_NO_USED")


def test_query_close_and_the_states_of_a_transaction(fake):
    client = client_for(fake)
    number = out_trade_no()
    create(client, number)
    assert client.query(number)["trade_state"] == "NOTPAY"
    client.close(number)  # 204, signed with an empty body
    assert client.query(number)["trade_state"] == "CLOSED"
    with pytest.raises(PayError) as refused:
        create(client, number)
    assert refused.value.code == "ORDER_CLOSED"
    with pytest.raises(PayError) as missing:
        client.query(out_trade_no())
    assert (missing.value.status, missing.value.code) == (404, "ORDER_NOT_EXIST")


def test_a_paid_transaction_cannot_be_closed(fake):
    client = client_for(fake)
    number = out_trade_no()
    create(client, number)
    fake.state.pay(number)  # nobody listens at the notify_url: the payment stands anyway
    paid = client.query(number)
    assert paid["trade_state"] == "SUCCESS" and paid["amount"]["payer_total"] == 29000 and paid["transaction_id"]
    with pytest.raises(PayError) as refused:
        client.close(number)
    assert refused.value.code == "ORDERPAID"


def test_refunds_are_one_per_refund_number_and_never_more_than_paid(fake):
    client = client_for(fake)
    number = out_trade_no()
    create(client, number)
    fake.state.pay(number)
    with pytest.raises(PayError) as too_much:
        client.refund(out_trade_no=number, out_refund_no="R" + number, refund_fen=29001, total_fen=29000, reason="测试")
    assert too_much.value.code == "INVALID_REQUEST"
    first = client.refund(out_trade_no=number, out_refund_no="R" + number, refund_fen=29000, total_fen=29000,
                          reason="测试")
    again = client.refund(out_trade_no=number, out_refund_no="R" + number, refund_fen=29000, total_fen=29000,
                          reason="测试")
    assert first["status"] == "PROCESSING" and again["refund_id"] == first["refund_id"]
    fake.state.complete_refunds()
    assert client.query_refund("R" + number)["status"] == "SUCCESS"
    assert client.query(number)["trade_state"] == "REFUND"


def signed_post(fake, path, body, *, key=None, timestamp_shift=0):
    """A request signed the way the SDK signs, with knobs a real client never turns."""
    keys = fake.state.keys
    text = json.dumps(body)
    authorization = build_authorization(path, "POST", keys.mchid, keys.cert_serial_no,
                                        load_private_key(key or keys.merchant_key), data=text)
    if timestamp_shift:
        old = authorization.split('timestamp="')[1].split('"')[0]
        authorization = authorization.replace(f'timestamp="{old}"', f'timestamp="{int(old) + timestamp_shift}"')
    return requests.post(fake.base + path, data=text, timeout=5,
                         headers={"Authorization": authorization, "Content-Type": "application/json"})


def native_body(fake, **changes):
    keys = fake.state.keys
    return {"appid": keys.appid, "mchid": keys.mchid, "description": "测试", "out_trade_no": out_trade_no(),
            "notify_url": "https://example.com/pay/wechat/notify", "amount": {"total": 100}, **changes}


def test_the_fake_checks_the_merchant_signature_and_the_request(fake):
    path = "/v3/pay/transactions/native"
    assert signed_post(fake, path, native_body(fake)).status_code == 200
    other_key = SimulatorKeys.generate().merchant_key
    assert signed_post(fake, path, native_body(fake), key=other_key).json()["code"] == "SIGN_ERROR"
    stale = signed_post(fake, path, native_body(fake), timestamp_shift=-400)
    assert stale.status_code == 401 and stale.json()["code"] == "SIGN_ERROR"
    tampered = native_body(fake)
    keys = fake.state.keys
    authorization = build_authorization(path, "POST", keys.mchid, keys.cert_serial_no,
                                        load_private_key(keys.merchant_key), data=json.dumps(tampered))
    tampered["amount"]["total"] = 1  # the body changed after signing
    assert requests.post(fake.base + path, json=tampered, timeout=5, headers={
        "Authorization": authorization}).status_code == 401
    for body in (native_body(fake, amount={"total": "100"}), native_body(fake, amount={"total": 1.5}),
                 native_body(fake, description=""), native_body(fake, out_trade_no="abc"),
                 native_body(fake, notify_url="https://example.com/notify?x=1")):
        answer = signed_post(fake, path, body)
        assert answer.status_code == 400 and answer.json()["code"] == "PARAM_ERROR", body
    assert signed_post(fake, path, native_body(fake, appid="wxother")).json()["code"] == "APPID_MCHID_NOT_MATCH"


@pytest.mark.parametrize("forgery", ["tampered", "stale", "signtest", "serial", "unsigned"])
def test_the_client_refuses_answers_it_cannot_trust(fake, forgery):
    fake.state.fail_next["wechatpay_simulator.native"] = [forgery]
    with pytest.raises(PayError) as refused:
        create(client_for(fake), out_trade_no())
    assert refused.value.code == "SIGNATURE"


def test_the_client_refuses_answers_signed_by_another_platform_key(fake):
    stranger = SimulatorKeys.public_pem(SimulatorKeys.generate().platform_key)
    with pytest.raises(PayError) as refused:
        create(client_for(fake, public_key=stranger), out_trade_no())
    assert refused.value.code == "SIGNATURE"


@pytest.mark.parametrize("failure, code, status", [
    ((500, "SYSTEM_ERROR", "系统错误"), "SYSTEM_ERROR", 500),
    ((403, "RULE_LIMIT", "业务规则限制"), "RULE_LIMIT", 403),
    ("garbage", "UNKNOWN", 502),
])
def test_error_answers_become_pay_errors(fake, failure, code, status):
    fake.state.fail_next["wechatpay_simulator.native"] = [failure]
    with pytest.raises(PayError) as refused:
        create(client_for(fake), out_trade_no())
    assert (refused.value.code, refused.value.status) == (code, status)


def test_a_silent_or_absent_server_is_a_network_error():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection into its backlog and never answers
    absent = socket.socket()
    absent.bind(("127.0.0.1", 0))
    absent_port = absent.getsockname()[1]
    absent.close()  # nothing listens there any more
    fake = type("Fake", (), {"state": type("S", (), {"keys": SimulatorKeys.generate()})(), "base": ""})()
    try:
        for base in (f"http://127.0.0.1:{silent.getsockname()[1]}", f"http://127.0.0.1:{absent_port}"):
            with pytest.raises(PayError) as failed:
                create(client_for(fake, timeout=0.3, base=base), out_trade_no())
            assert failed.value.code == "NETWORK"
    finally:
        silent.close()


def test_notifications_are_verified_and_decrypted(app, fake):
    client = client_for(fake)
    with app.app_context():
        body, headers = fake.state.notification("TRANSACTION.SUCCESS", "transaction", {"out_trade_no": "X1"}, "支付成功")
    event = client.parse_notification(headers, body.encode())
    assert event["event_type"] == "TRANSACTION.SUCCESS" and event["resource"] == {"out_trade_no": "X1"}
