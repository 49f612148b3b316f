"""Payouts against the fake WeChat Pay on a loopback port: an approved claim paid to the claimant's WeChat balance
once (two handlers at once, a retry after an error or a timeout: one batch, one payout row), the claim 已到账 only
when WeChat Pay confirms the transfer; a failure shown and the claim left closed; 2,000 yuan and more refused for
the bank card; the insurer's bank payment recorded; the simulator never in production."""
import json
import secrets
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select
from wechatpayv3.utils import build_authorization, load_private_key

from app import create_app
from app.admin.models import AdminStaff
from app.auth.models import WeChatIdentity
from app.claims import jobs as claim_jobs
from app.claims import payout
from app.claims.models import ClaimEvent, ClaimPayout
from app.claims.services import ClaimError
from app.core.clock import db_now
from app.extensions import db
from app.payments import PayError
from tests.support.admin import new_staff
from tests.support.claims import claim_row, issued_policy, new_claim
from tests.support.concurrency import at_once
from tests.support.config import production
from tests.support.pay import batches_of, client_for


@pytest.fixture()
def approved(app, member, pay):
    """An approved claim of a claimant who signed in with WeChat (the official account's openid): its number."""
    def make(approved_fen=128050, openid=True, decision="approved"):
        user = member("理赔用户")
        with app.app_context():
            now = db_now()
            if openid:
                db.session.add(WeChatIdentity(user_id=user.id, appid=pay.state.keys.appid,
                                              openid="o" + secrets.token_hex(13), created_at=now))
                db.session.commit()
        return new_claim(app, user.id, issued_policy(app, user.id), status="closed", decision=decision,
                         approved_fen=approved_fen if decision != "rejected" else None, amount_claimed_fen=300000,
                         decided_at=now, payout_due_at=now + timedelta(days=10))
    return make


@pytest.fixture()
def handler(app):
    return new_staff(app, "claims")


def pay_out(app, number, staff, method="wechat"):
    """The payout as pay_out leaves it (or the ClaimError it raised)."""
    with app.app_context():
        try:
            done = payout.pay_out(claim_row(number), db.session.get(AdminStaff, staff.id), method, db_now())
        except ClaimError as error:
            return error
        db.session.expunge(done)
        return done


def refresh(app, payout_id):
    with app.app_context():
        done = payout.refresh(payout_id, db_now())
        db.session.expunge(done)
        return done


def claim_of(app, number):
    with app.app_context():
        claim = claim_row(number)
        notes = db.session.scalars(select(ClaimEvent.note).where(ClaimEvent.claim_id == claim.id)
                                   .order_by(ClaimEvent.id)).all()
        return claim.status, claim.paid_at, notes


def payouts_of(app, number):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ClaimPayout).where(
            ClaimPayout.claim_id == claim_row(number).id))


def test_a_transfer_is_paid_once_and_only_when_wechat_pay_confirms_it(app, pay, approved, handler):
    number = approved(128050)
    sent = pay_out(app, number, handler)
    assert (sent.status, sent.method, sent.amount_fen, sent.out_batch_no) == ("processing", "wechat", 128050,
                                                                              number + "W1")
    [batch] = batches_of(pay, number)
    assert batch["batch_status"] == "ACCEPTED" and batch["total_amount"] == 128050 and sent.batch_id == batch["batch_id"]
    assert batch["details"][0]["transfer_remark"] == f"理赔款 {number}"
    assert claim_of(app, number)[0] == "closed"  # accepted is not paid
    assert refresh(app, sent.id).status == "processing"

    assert pay.state.finish_transfer(sent.out_batch_no)
    done = refresh(app, sent.id)
    assert done.status == "paid" and done.completed_at is not None
    status, paid_at, notes = claim_of(app, number)
    assert status == "paid" and paid_at is not None
    assert notes[-1] == "赔款 ¥1,280.50 已到账（微信零钱）"

    calls = pay.state.transfer_calls
    assert pay_out(app, number, handler).status == "paid"  # clicked again: nothing more
    assert refresh(app, sent.id).status == "paid"
    assert pay.state.transfer_calls == calls and len(batches_of(pay, number)) == 1 and payouts_of(app, number) == 1
    assert claim_of(app, number)[2].count(notes[-1]) == 1


def test_two_handlers_paying_at_once_make_one_payout_and_one_batch(app, pay, approved, handler):
    number, other = approved(50000), new_staff(app, "claims")
    results = at_once(2, lambda i: pay_out(app, number, (handler, other)[i]))
    assert {(r.status, r.out_batch_no) for r in results} == {("processing", number + "W1")}
    assert payouts_of(app, number) == 1
    [batch] = batches_of(pay, number)
    pay.state.finish_transfer(batch["out_batch_no"])
    results = at_once(2, lambda i: refresh(app, results[0].id))
    assert {r.status for r in results} == {"paid"}
    assert claim_of(app, number)[2].count("赔款 ¥500.00 已到账（微信零钱）") == 1


def test_an_error_leaves_the_transfer_pending_and_the_retry_sends_the_same_batch(app, pay, approved, handler):
    number = approved(88800)
    pay.state.fail_next["wechatpay_simulator.transfer_batches"] = [(500, "SYSTEM_ERROR", "系统繁忙，请稍后重试")]
    first = pay_out(app, number, handler)
    assert first.status == "pending" and "SYSTEM_ERROR" in first.failure and "同一批次单号" in first.failure
    assert batches_of(pay, number) == []
    again = refresh(app, first.id)  # the periodic job, or the handler's next click
    assert (again.status, again.out_batch_no, again.failure) == ("processing", first.out_batch_no, "")
    assert len(batches_of(pay, number)) == 1 and payouts_of(app, number) == 1


def test_a_timeout_after_wechat_pay_took_the_batch_is_retried_under_the_same_number(app, pay, approved, handler,
                                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "WECHATPAY_TIMEOUT", 0.3)
    pay.state.late_seconds = 1.0  # WeChat Pay makes the batch, and answers after we stopped waiting
    pay.state.fail_next["wechatpay_simulator.transfer_batches"] = ["late"]
    number = approved(30000)
    first = pay_out(app, number, handler)
    assert first.status == "pending" and "NETWORK" in first.failure
    assert len(batches_of(pay, number)) == 1  # it was taken
    calls = pay.state.transfer_calls
    again = pay_out(app, number, handler)
    assert (again.id, again.status, again.out_batch_no) == (first.id, "processing", first.out_batch_no)
    assert pay.state.transfer_calls == calls + 1 and len(batches_of(pay, number)) == 1  # the same batch, answered

    pay.state.finish_transfer(again.out_batch_no)
    with app.app_context():
        assert claim_jobs.refresh_payouts.enqueue() is not None  # the periodic job, run here
    assert refresh(app, first.id).status == "paid" and claim_of(app, number)[0] == "paid"


def test_a_failed_transfer_leaves_the_claim_closed_with_the_reason_shown(app, pay, approved, handler):
    number = approved(120000)
    sent = pay_out(app, number, handler)
    pay.state.finish_transfer(sent.out_batch_no, fail_reason="REAL_NAME_CHECK_FAIL")
    failed = refresh(app, sent.id)
    assert (failed.status, failed.failure) == ("failed", "转账失败：收款人未实名认证")
    assert claim_of(app, number)[:2] == ("closed", None)
    assert refresh(app, sent.id).status == "failed"  # the job leaves it alone


def test_after_a_confirmed_failure_a_new_batch_may_be_sent(app, pay, approved, handler):
    number = approved(120000)
    sent = pay_out(app, number, handler)
    pay.state.finish_transfer(sent.out_batch_no, fail_reason="DAY_RECEIVED_QUOTA_EXCEED")
    assert refresh(app, sent.id).status == "failed"
    again = pay_out(app, number, handler)
    assert (again.id, again.status, again.out_batch_no) == (sent.id, "processing", number + "W2")
    assert [b["batch_status"] for b in batches_of(pay, number)] == ["FINISHED", "ACCEPTED"]
    pay.state.finish_transfer(again.out_batch_no)
    assert refresh(app, sent.id).status == "paid" and claim_of(app, number)[0] == "paid"


def test_a_failure_wechat_pay_does_not_confirm_is_not_paid_again(app, pay, approved, handler):
    """A payout marked failed while its batch at WeChat Pay still moves (recorded wrongly, or a refusal of a
    batch that exists): neither a new batch nor the bank, until WeChat Pay says it paid nothing."""
    number = approved(66600)
    sent = pay_out(app, number, handler)
    with app.app_context():
        db.session.execute(ClaimPayout.__table__.update().where(ClaimPayout.id == sent.id).values(status="failed"))
        db.session.commit()
    for method in ("wechat", "bank"):
        refused = pay_out(app, number, handler, method)
        assert isinstance(refused, ClaimError) and "并未失败" in str(refused)
        assert refresh(app, sent.id).status == "processing"  # what WeChat Pay says, recorded
        with app.app_context():
            db.session.execute(ClaimPayout.__table__.update().where(ClaimPayout.id == sent.id).values(status="failed"))
            db.session.commit()
    assert len(batches_of(pay, number)) == 1 and claim_of(app, number)[0] == "closed"


def test_from_2000_yuan_the_transfer_is_refused_for_the_bank_card(app, pay, approved, handler):
    number = approved(200000)
    refused = pay_out(app, number, handler)
    assert isinstance(refused, ClaimError)
    assert str(refused).startswith("本案赔款 ¥2,000.00：微信零钱单笔转账须少于 ¥2,000.00") and "银行卡" in str(refused)
    assert payouts_of(app, number) == 0 and batches_of(pay, number) == []
    assert pay_out(app, approved(199999), handler).status == "processing"  # ¥1,999.99 goes
    with pytest.raises(PayError) as guarded:  # the client itself sends no such detail
        client_for(pay).transfer(out_batch_no="LP1W1", out_detail_no="LP1W1D1", amount_fen=200000, openid="o1",
                                 batch_name="理赔款", remark="理赔款")
    assert guarded.value.code == "PARAM_ERROR"


def test_the_bank_method_records_the_insurers_payment_at_once(app, pay, approved, handler):
    number = approved(500000)  # above the transfer's limit: the insurer pays the bank card
    recorded = pay_out(app, number, handler, "bank")
    assert (recorded.method, recorded.status, recorded.amount_fen) == ("bank", "paid", 500000)
    status, paid_at, notes = claim_of(app, number)
    assert status == "paid" and notes[-1] == "赔款 ¥5,000.00 已到账（保险公司银行转账）"
    assert pay_out(app, number, handler, "bank").id == recorded.id  # a second click
    assert pay_out(app, number, handler, "wechat").status == "paid"
    assert payouts_of(app, number) == 1 and batches_of(pay, number) == []


def test_the_bank_is_refused_while_a_transfer_runs_and_taken_once_it_failed(app, pay, approved, handler):
    number = approved(20000)
    sent = pay_out(app, number, handler)
    refused = pay_out(app, number, handler, "bank")
    assert isinstance(refused, ClaimError) and "正在处理中" in str(refused)
    pay.state.finish_transfer(sent.out_batch_no, fail_reason="ACCOUNT_FROZEN")
    assert refresh(app, sent.id).failure == "转账失败：该用户账户被冻结"
    recorded = pay_out(app, number, handler, "bank")
    assert (recorded.id, recorded.method, recorded.status) == (sent.id, "bank", "paid")
    assert claim_of(app, number)[2][-1] == "赔款 ¥200.00 已到账（保险公司银行转账）"


@pytest.mark.parametrize("case, message", [
    ("rejected", "只有已结案并核定赔付的案件可以支付"),
    ("no openid", "没有用微信登录过本平台"),
    ("no method", "请选择支付方式"),
])
def test_what_cannot_be_paid_is_refused_with_a_reason(app, pay, approved, handler, case, message):
    number = approved(decision="rejected") if case == "rejected" else approved(openid=case != "no openid")
    refused = pay_out(app, number, handler, "alipay" if case == "no method" else "wechat")
    assert isinstance(refused, ClaimError) and message in str(refused)
    assert payouts_of(app, number) == 0 and batches_of(pay, number) == []


def test_a_claim_not_yet_paid_can_still_be_paid_by_the_bank_after_a_refusal(app, pay, approved, handler):
    """WeChat Pay refuses the batch outright (not an error to retry): the payout fails with its words."""
    number = approved(10000)
    pay.state.fail_next["wechatpay_simulator.transfer_batches"] = [(403, "NO_AUTH", "商户未开通商家转账到零钱")]
    refused = pay_out(app, number, handler)
    assert (refused.status, refused.failure) == ("failed", "微信支付拒绝了转账：商户未开通商家转账到零钱（NO_AUTH）")
    assert pay_out(app, number, handler, "bank").status == "paid"  # its batch was never made (NOT_FOUND)


def test_the_fake_keeps_a_batch_per_number_as_wechat_pay_does(pay):
    client = client_for(pay)
    number = "LPTEST" + secrets.token_hex(6).upper()
    fields = {"out_batch_no": number, "out_detail_no": number + "D1", "amount_fen": 100, "openid": "o-payee",
              "batch_name": "理赔款", "remark": "理赔款 LPTEST"}
    accepted = client.transfer(**fields)
    assert accepted["out_batch_no"] == number and accepted["batch_status"] == "ACCEPTED"
    assert client.transfer(**fields) == accepted  # the same body: the same batch
    with pytest.raises(PayError) as refused:
        client.transfer(**{**fields, "amount_fen": 200})
    assert (refused.value.status, refused.value.code) == (400, "INVALID_REQUEST")
    answer = client.query_transfer(number)
    assert answer["transfer_batch"]["batch_status"] == "ACCEPTED"
    assert answer["transfer_detail_list"] == [{"detail_id": answer["transfer_detail_list"][0]["detail_id"],
                                               "out_detail_no": number + "D1", "detail_status": "INIT"}]
    with pytest.raises(PayError) as missing:
        client.query_transfer(number + "X")
    assert (missing.value.status, missing.value.code) == (404, "NOT_FOUND")


def test_the_transfer_simulator_is_refused_in_production():
    client = create_app(production()).test_client()
    assert client.post("/dev/wechatpay/v3/transfer/batches", json={}).status_code == 404
    assert client.get("/dev/wechatpay/v3/transfer/batches/out-batch-no/LP1W1").status_code == 404


def test_the_fake_refuses_a_detail_of_2000_yuan_without_the_payees_name(pay):
    keys = pay.state.keys
    number = "LPTEST" + secrets.token_hex(6).upper()
    body = {"appid": keys.appid, "out_batch_no": number, "batch_name": "理赔款", "batch_remark": "理赔款",
            "total_amount": 200000, "total_num": 1, "transfer_detail_list": [
                {"out_detail_no": number + "D1", "transfer_amount": 200000, "transfer_remark": "理赔款", "openid": "o1"}]}
    data = json.dumps(body)
    authorization = build_authorization("/v3/transfer/batches", "POST", keys.mchid, keys.cert_serial_no,
                                        load_private_key(keys.merchant_key), data=data)
    answer = requests.post(pay.base + "/v3/transfer/batches", data=data, timeout=5, headers={
        "Authorization": authorization, "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["code"] == "PARAM_ERROR"
    assert "收款用户姓名" in answer.json()["message"]
