"""A policyholder's claim, as they would try it: reported on a policy (the event inside the coverage, a waiting
period explained), its documents uploaded against the checklist, 预审 saying what is missing before anything
is sent, the timeline and the law's clock (30 days less the wait for supplements, 10 days to pay), withdrawal,
one appeal for another handler; another user's claim is not found."""
import io
import os
import re
from datetime import datetime, time, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.admin.models import AdminStaff
from app.claims import retention, services
from app.claims.models import Claim, ClaimEvent
from app.core.clock import SHANGHAI, db_now
from app.extensions import db
from app.notifications.models import Notification
from tests.support.admin import new_staff
from tests.support.agreements import accepted_user
from tests.support.claims import claim_row, encoded, issued_policy, unique_photo
from tests.support.clock import CLOCK
from tests.support.concurrency import at_once
from tests.support.web import HX, token


def today():
    """The injected clock's day in Shanghai (outside any request)."""
    return CLOCK.now.astimezone(SHANGHAI).date()


ALL_MEDICAL = ["invoice", "cost_list", "medical_record", "discharge", "diagnosis", "id_card", "bank_card"]


@pytest.fixture()
def policyholder(app, customer):
    customer.policy = issued_policy(app, customer.id)
    return customer


def start(client, policy, **fields):
    page = client.get(f"/policies/{policy}/claims/new").get_data(as_text=True)
    data = {"csrf_token": token(page), "event_date": (today() - timedelta(days=3)).isoformat(),
            "description": "骑车摔伤，在市第一医院急诊并住院三天", "amount": "3250.50", "payee_method": "wechat", **fields}
    return client.post(f"/policies/{policy}/claims/new", data=data)


def started(client, policy):
    response = start(client, policy)
    assert response.status_code == 302, re.findall(r'class="field-error"[^>]*>([^<]+)<', response.get_data(as_text=True))
    return response.headers["Location"].rsplit("/", 1)[1]


def upload(client, number, item, *files, htmx=False):
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    return client.post(f"/claims/{number}/documents", headers=HX if htmx else {}, content_type="multipart/form-data",
                       data={"csrf_token": token(page), "item": item,
                             "files": [(io.BytesIO(content), name) for name, content in files]})


def post(client, number, action, **data):
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    return client.post(f"/claims/{number}/{action}", data={"csrf_token": token(page), **data})


def errors(response):
    return re.findall(r'class="field-error"[^>]*>([^<]+)<', response.get_data(as_text=True))


def test_bad_answers_get_their_message_and_nothing_is_started(app, policyholder):
    client, policy = policyholder.client, policyholder.policy
    cases = {
        "event_date": ((today() + timedelta(days=1)).isoformat(), "出险日期不能晚于今天"),
        "description": ("摔了", "请用10–1000个字描述事故经过"),
        "amount": ("12.345", "金额最多精确到分（两位小数）"),
    }
    for field, (value, message) in cases.items():
        response = start(client, policy, **{field: value})
        assert response.status_code == 422 and message in response.get_data(as_text=True), field
    response = start(client, policy, event_date=(today() - timedelta(days=400)).isoformat())
    assert response.status_code == 422 and "出险日期须在保险期间内" in response.get_data(as_text=True)
    response = start(client, policy, amount="")
    assert response.status_code == 422 and "请填写申请理赔的金额" in response.get_data(as_text=True)
    response = start(client, policy, payee_method="bank", bank_name="", bank_account="6222021234567890")
    assert "请填写开户银行" in response.get_data(as_text=True) and "银行卡号有误" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Claim).where(Claim.user_id == policyholder.id)) == 0


def test_a_claim_in_the_waiting_period_is_explained_and_may_still_be_sent(app, customer):
    policy = issued_policy(app, customer.id, starts_on=today() - timedelta(days=10))  # 30-day waiting period
    response = start(customer.client, policy, event_date=(today() - timedelta(days=5)).isoformat())
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "出险日期在等待期内" in page and "仍要申请" in page
    response = start(customer.client, policy, event_date=(today() - timedelta(days=5)).isoformat(),
                     accept_waiting="y")
    assert response.status_code == 302


def test_precheck_says_what_is_missing_before_sending_then_the_claim_goes(app, clock, policyholder):
    client = policyholder.client
    number = started(client, policyholder.policy)
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    for label in ("医疗费用发票", "费用明细清单", "病历", "出院小结", "诊断证明", "申请人身份证", "收款银行卡"):
        assert label in page
    assert "缺少：医疗费用发票" in page

    for item in ALL_MEDICAL[:-1]:
        response = upload(client, number, item, (f"{item}.jpg", unique_photo()), htmx=True)
        assert response.status_code == 200 and "已上传 1 份" in response.get_data(as_text=True)
    response = post(client, number, "submit")
    assert response.status_code == 422 and "还缺少：收款银行卡" in response.get_data(as_text=True)
    with app.app_context():
        assert claim_row(number).status == "draft"

    upload(client, number, "bank_card", ("card.jpg", unique_photo()))
    assert "材料齐全，可以提交" in client.get(f"/claims/{number}").get_data(as_text=True)
    response = post(client, number, "submit")
    assert response.status_code == 302
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    assert "已提交" in page and "保险公司作出核定" in page and "剩余 30 天" in page
    with app.app_context():
        claim = claim_row(number)
        assert claim.decision_due_at == db_now() + timedelta(days=30)
        assert db.session.scalar(select(Notification.template).where(Notification.user_id == policyholder.id)
                                 .order_by(Notification.id.desc()).limit(1)) == "claim_update"


def test_two_submits_at_once_send_it_once(app, policyholder):
    client = policyholder.client
    number = started(client, policyholder.policy)
    for item in ALL_MEDICAL:
        upload(client, number, item, (f"{item}.jpg", unique_photo()))
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    statuses = at_once(2, lambda i: client.post(
        f"/claims/{number}/submit", data={"csrf_token": token(page)}).status_code)
    assert sorted(statuses) == [302, 422]
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(ClaimEvent).join(Claim)
                                   .where(Claim.number == number, ClaimEvent.status == "submitted"))
        assert events == 1


def test_another_users_claim_and_documents_are_not_found(app, policyholder, member):
    number = started(policyholder.client, policyholder.policy)
    upload(policyholder.client, number, "invoice", ("invoice.jpg", unique_photo()))
    with app.app_context():
        document = claim_row(number).documents[0].token
    stranger = accepted_user(member).client
    for path in (f"/claims/{number}", f"/claims/{number}/documents/{document}"):
        assert stranger.get(path).status_code == 404
    page = stranger.get("/me/claims").get_data(as_text=True)
    assert stranger.post(f"/claims/{number}/submit", data={"csrf_token": token(page)}).status_code == 404
    own = policyholder.client.get(f"/claims/{number}/documents/{document}")
    assert own.status_code == 200 and own.headers["Cache-Control"] == "private, no-store"


def test_the_clock_stops_while_the_claimant_gathers_supplements(app, clock, policyholder):
    client = policyholder.client
    number = started(client, policyholder.policy)
    for item in ALL_MEDICAL:
        upload(client, number, item, (f"{item}.jpg", unique_photo()))
    post(client, number, "submit")
    handler = new_staff(app, "claims")
    with app.app_context():
        submitted = claim_row(number).submitted_at
        staff = db.session.get(AdminStaff, handler.id)
        services.take(claim_row(number), staff, db_now())
        clock.advance(days=10)
        services.request_supplement(claim_row(number), staff, ["invoice", "other"], "住院押金收据", db_now())
        db.session.commit()
    page = client.get(f"/claims/{number}").get_data(as_text=True)
    assert "待补充材料" in page and "请补充：医疗费用发票、其他材料（住院押金收据）" in page
    assert "审核计时已暂停" in page and "剩余 20 天" in page

    clock.advance(days=5)
    response = post(client, number, "supplied")
    assert response.status_code == 422 and "还缺少：医疗费用发票、其他材料" in response.get_data(as_text=True)
    upload(client, number, "invoice", ("invoice-2.jpg", unique_photo()))
    upload(client, number, "other", ("deposit.jpg", unique_photo()))
    assert post(client, number, "supplied").status_code == 302
    with app.app_context():
        assert claim_row(number).decision_due_at == submitted + timedelta(days=35)
    assert "剩余 20 天" in client.get(f"/claims/{number}").get_data(as_text=True)


def _decided(app, number, staff_id, **decision):
    with app.app_context():
        staff = db.session.get(AdminStaff, staff_id)
        claim = claim_row(number)
        if claim.status == "submitted" or claim.handler_id is None:
            services.take(claim, staff, db_now())
        services.decide(claim_row(number), staff, now=db_now(), **decision)
        db.session.commit()


def submitted_claim(client, policy):
    number = started(client, policy)
    for item in ALL_MEDICAL:
        upload(client, number, item, (f"{item}.jpg", unique_photo()))
    assert post(client, number, "submit").status_code == 302
    return number


def test_a_decision_keeps_to_the_sum_insured_and_the_claim_then_is_paid_within_ten_days(app, clock, policyholder):
    number = submitted_claim(policyholder.client, policyholder.policy)
    handler = new_staff(app, "claims")
    for approved, message in ((325051, "赔付金额不能超过申请金额"), (10**10, "赔付金额不能超过保额")):
        with pytest.raises(services.ClaimError, match=message):
            _decided(app, number, handler.id, decision="approved", approved_fen=approved, reason_code=None,
                     reason_text="", clause="")
    with pytest.raises(services.ClaimError, match="拒赔须选择原因并写明理由"):
        _decided(app, number, handler.id, decision="rejected", approved_fen=None, reason_code="exclusion",
                 reason_text="", clause="")
    _decided(app, number, handler.id, decision="approved", approved_fen=325050, reason_code=None, reason_text="",
             clause="")
    page = policyholder.client.get(f"/claims/{number}").get_data(as_text=True)
    assert "已结案：赔付" in page and "¥3,250.50" in page and "赔款到账" in page and "剩余 10 天" in page
    with app.app_context():
        services.paid(claim_row(number), db_now(), "微信零钱")
        db.session.commit()
    page = policyholder.client.get(f"/claims/{number}").get_data(as_text=True)
    assert "已到账" in page and "赔款 ¥3,250.50 已到账（微信零钱）" in page


def test_a_refusal_is_appealed_once_and_goes_to_another_handler(app, policyholder):
    number = submitted_claim(policyholder.client, policyholder.policy)
    first = new_staff(app, "claims")
    _decided(app, number, first.id, decision="rejected", approved_fen=None, reason_code="exclusion",
             reason_text="事故发生时饮酒驾驶", clause="《安心百万医疗2026保险条款》第七条第（三）项")
    page = policyholder.client.get(f"/claims/{number}").get_data(as_text=True)
    assert "核定结果：拒赔" in page and "事故发生时饮酒驾驶" in page and "第七条第（三）项" in page
    with app.app_context():  # the refusal, with its reasons, goes to the claimant at once (the law allows 3 days)
        notice = db.session.scalar(select(Notification).where(Notification.user_id == policyholder.id)
                                   .order_by(Notification.id.desc()).limit(1))
        assert notice.template == "claim_update" and notice.created_at == claim_row(number).decided_at
    response = post(policyholder.client, number, "appeal", reason="短")
    assert response.status_code == 422 and "请用10–500个字写明理由" in response.get_data(as_text=True)
    assert post(policyholder.client, number, "appeal", reason="当天并未饮酒，附医院血液检测报告").status_code == 302
    with pytest.raises(services.ClaimError, match="复核须由另一位理赔人员处理"):
        _decided(app, number, first.id, decision="approved", approved_fen=100000, reason_code=None,
                 reason_text="", clause="")
    second = new_staff(app, "claims")
    _decided(app, number, second.id, decision="approved", approved_fen=100000, reason_code=None, reason_text="",
             clause="")
    page = policyholder.client.get(f"/claims/{number}").get_data(as_text=True)
    assert "已结案：赔付" in page and "申请复核" not in page.split("进度")[0]


def test_a_claim_may_be_withdrawn_before_its_decision_only(app, policyholder):
    number = submitted_claim(policyholder.client, policyholder.policy)
    assert post(policyholder.client, number, "withdraw").status_code == 302
    assert "已撤回" in policyholder.client.get(f"/claims/{number}").get_data(as_text=True)
    response = post(policyholder.client, number, "withdraw")
    assert response.status_code == 422 and "理赔状态已经变化" in response.get_data(as_text=True)


def test_the_same_file_in_another_claim_is_flagged_before_sending(app, policyholder, member):
    customer = accepted_user(member)
    same = unique_photo()
    first = started(policyholder.client, policyholder.policy)
    upload(policyholder.client, first, "invoice", ("invoice.jpg", same))
    for item in ALL_MEDICAL[1:]:
        upload(policyholder.client, first, item, (f"{item}.jpg", unique_photo()))
    assert post(policyholder.client, first, "submit").status_code == 302  # a draft's files are nobody's claim yet
    other_policy = issued_policy(app, customer.id)
    second = started(customer.client, other_policy)
    upload(customer.client, second, "invoice", ("invoice.jpg", same))
    page = customer.client.get(f"/claims/{second}").get_data(as_text=True)
    assert "该文件已在其他理赔中提交过" in page
    own_second = issued_policy(app, policyholder.id)
    third = started(policyholder.client, own_second)
    upload(policyholder.client, third, "invoice", ("invoice.jpg", same))
    assert f"该文件已在理赔 {first} 中提交过" in policyholder.client.get(f"/claims/{third}").get_data(as_text=True)


def test_my_claims_and_the_policy_page_lead_to_a_claim(app, policyholder):
    number = started(policyholder.client, policyholder.policy)
    page = policyholder.client.get("/me/claims").get_data(as_text=True)
    assert number in page and "继续填写" in page and f"/policies/{policyholder.policy}/claims/new" in page
    page = policyholder.client.get(f"/policies/{policyholder.policy}").get_data(as_text=True)
    assert "申请理赔" in page and f"/claims/{number}" in page


def test_a_photo_of_several_megabytes_uploads(app, policyholder):
    """A phone's photo is a few MB, more than the site takes in other forms."""
    noise = Image.frombytes("RGB", (2000, 1500), os.urandom(2000 * 1500 * 3))
    big = encoded(noise, "JPEG", quality=95)
    assert len(big) > 2 * 1024 * 1024
    number = started(policyholder.client, policyholder.policy)
    response = upload(policyholder.client, number, "invoice", ("IMG_2041.jpg", big), htmx=True)
    assert response.status_code == 200 and "已上传 1 份" in response.get_data(as_text=True)


def test_documents_are_kept_until_their_time_and_then_deleted(app, policyholder):
    number = submitted_claim(policyholder.client, policyholder.policy)
    _decided(app, number, new_staff(app, "claims").id, decision="approved", approved_fen=100000, reason_code=None,
             reason_text="", clause="")
    with app.app_context():
        services.paid(claim_row(number), db_now(), "保险公司银行转账")
        db.session.commit()
        claim = claim_row(number)
        until = retention.kept_until(claim.policy)
        assert until == claim.policy.ends_on.replace(year=claim.policy.ends_on.year + 5)  # a one-year policy
    page = policyholder.client.get("/me/data").get_data(as_text=True)
    assert f"理赔 {number}" in page and f"保存至 {until}" in page and "收款银行卡" in page
    exported = policyholder.client.get("/me/data.json").get_json()
    assert [c["number"] for c in exported["claims"]] == [number] and len(exported["claims"][0]["documents"]) == 7

    with app.app_context():
        retention.purge(datetime.combine(until, time(12)))  # the last day: still kept
        db.session.commit()
        assert len(claim_row(number).documents) == 7
        assert retention.purge(datetime.combine(until + timedelta(days=1), time(12))) >= 7
        db.session.commit()
        assert claim_row(number).documents == [] and claim_row(number).status == "paid"
    page = policyholder.client.get(f"/claims/{number}").get_data(as_text=True)
    assert "理赔材料已按规定的保存期限删除" in page


def test_an_open_claim_holds_the_account_and_a_draft_goes_with_it(app, policyholder):
    number = submitted_claim(policyholder.client, policyholder.policy)
    page = policyholder.client.get("/me/data").get_data(as_text=True)
    assert "你有处理中的理赔，请在理赔结案、赔款到账后再注销" in page
    post(policyholder.client, number, "withdraw")
    assert "你有处理中的理赔" not in policyholder.client.get("/me/data").get_data(as_text=True)
