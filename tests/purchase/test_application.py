"""The application step by step: checks per step, the server-side premium, breakpoints, submit."""
import logging
import re
from datetime import date

import pytest
from sqlalchemy import select, text

from app.auth.models import User
from app.extensions import db
from app.orders.models import Order
from app.purchase.models import Application
from tests.support.identity import APPLICANT, DAD, KID, ME, SON, WIFE, id_number
from tests.support.purchase import MEDICAL, Buyer, premium
from tests.support.web import token


def test_a_whole_application_ends_in_an_order_waiting_for_payment(app, customer):
    buyer = Buyer(customer.client)
    _, page = buyer.page(1)
    assert "方案" in page and premium(page) == "¥160.00"  # estimated for a typical adult
    response = buyer.through(6)
    number = re.fullmatch(r"/orders/(DD\d{18})/pay", response.headers["Location"]).group(1)
    with app.app_context():
        row = db.session.scalar(select(Application).where(Application.number == buyer.number))
        assert row.status == "awaiting_payment" and row.premium_fen == 29000 and row.insured_age == 36
        order = db.session.scalar(select(Order).where(Order.application_id == row.id))
        assert order.number == number and order.amount_fen == 29000 and order.status == "pending"  # 36 周岁, 男, 有社保
        stored = db.session.execute(text("SELECT data FROM application WHERE id = :id"), {"id": row.id}).scalar()
        assert ME not in stored and "张伟" not in stored and "13800138000" not in stored  # encrypted at rest


def test_the_summary_masks_personal_data(customer):
    buyer = Buyer(customer.client)
    buyer.through(5)
    _, page = buyer.page(6)
    assert "张*" in page and "110***********" + ME[-4:] in page and "138****8000" in page
    assert ME not in page and "13800138000" not in page


@pytest.mark.parametrize("field, value, message", [
    ("id_number", "110101199005011310", "身份证号码无效"),
    ("id_number", id_number(date(2010, 1, 1)), "投保人须年满18周岁"),
    ("mobile", "12345", "请填写11位中国大陆手机号码"),
    ("mobile", "02012345678", "请填写11位中国大陆手机号码"),
    ("email", "not-an-email", "电子邮箱格式不正确"),
    ("name", "张", "请填写与身份证一致的姓名"),
    ("address", "1号", "请填写到门牌号的详细地址"),
])
def test_applicant_fields(customer, field, value, message):
    buyer = Buyer(customer.client)
    buyer.through(1)
    response, page = buyer.post(2, **{**APPLICANT, field: value})
    assert response.status_code == 422 and message in page


def test_insured_child_reprices_and_relations_are_checked(customer):
    buyer = Buyer(customer.client)
    buyer.through(2)
    response, page = buyer.post(3, relation="parent", name="张父", id_number=KID, social_security="yes")
    assert response.status_code == 422 and "父母的年龄应大于投保人" in page
    response, page = buyer.post(3, relation="child", name="张父", id_number=DAD, social_security="yes")
    assert response.status_code == 422 and "子女的年龄应小于投保人" in page
    response, page = buyer.post(3, relation="parent", name="张父", id_number=DAD, social_security="yes")
    assert response.status_code == 422 and "本产品仅承保出生满28天–65周岁的被保险人，被保险人当前66周岁" in page
    response, _ = buyer.post(3, relation="child", name="张小妹", id_number=KID, social_security="no")
    assert response.status_code == 302 and "notice=" in response.headers["Location"]
    page = buyer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已按被保险人的实际年龄和条件重新计算保费" in page
    assert premium(page) == "¥352.98"  # 10 周岁: band 5–10 is ¥180.00, × 1.06 (女) × 1.85 (无社保)


def beneficiaries(*people):
    """Step 4's form: one row per person (name, ID number, relation, share)."""
    data = {"kind": "named"}
    for i, (name, number, relation, share) in enumerate(people):
        data.update({f"people-{i}-name": name, f"people-{i}-id_number": number,
                     f"people-{i}-relation": relation, f"people-{i}-share": share})
    return data


def test_named_beneficiaries_are_one_per_row_with_their_id_numbers(app, customer):
    buyer = Buyer(customer.client)
    buyer.through(3)
    response, page = buyer.post(4, **beneficiaries(("李娜", WIFE, "spouse", "50"), ("张小宝", SON, "child", "40")))
    assert response.status_code == 422 and "受益比例合计须为100%" in page
    response, page = buyer.post(4, **beneficiaries(("李娜", WIFE, "friend", "100")))
    assert response.status_code == 422 and "请选择与被保险人的关系" in page
    response, page = buyer.post(4, **beneficiaries(("李娜", "110101199102031234", "spouse", "100")))
    assert response.status_code == 422 and "身份证号码无效" in page
    response, page = buyer.post(4, **beneficiaries(("李娜", "", "spouse", "100")))
    assert response.status_code == 422 and "请填写受益人的身份证号码" in page
    response, page = buyer.post(4, **beneficiaries(("李娜", WIFE, "spouse", "50"), ("李娜", WIFE, "spouse", "50")))
    assert response.status_code == 422 and "同一位受益人只需填写一次" in page
    response, page = buyer.post(4, **beneficiaries(("张伟", ME, "parent", "100")))
    assert response.status_code == 422 and "被保险人本人不能作为身故受益人" in page
    response, page = buyer.post(4, kind="named")
    assert response.status_code == 422 and "请至少填写一位受益人" in page

    response, _ = buyer.post(4, **beneficiaries(("李娜", WIFE, "spouse", "60"), ("张小宝", SON, "child", "40")))
    assert response.status_code == 302
    _, page = buyer.page(4)
    assert 'value="李娜"' in page and f'value="{SON}"' in page  # the saved breakpoint fills the rows again
    with app.app_context():
        saved = db.session.scalar(select(Application).where(Application.number == buyer.number))
        assert saved.details["beneficiaries"]["people"] == [
            {"name": "李娜", "id_number": WIFE, "relation": "spouse", "share": 60},
            {"name": "张小宝", "id_number": SON, "relation": "child", "share": 40}]


def test_choosing_statutory_beneficiaries_ignores_the_rows(customer):
    buyer = Buyer(customer.client)
    buyer.through(3)
    response, _ = buyer.post(4, **{**beneficiaries(("李\u202e娜", "x", "friend", "abc")), "kind": "statutory"})
    assert response.status_code == 302


@pytest.mark.parametrize("name, stored", [
    ("张伟", "张伟"),
    ("  欧阳 娜娜 ", "欧阳娜娜"),
    ("阿依古丽·买买提", "阿依古丽·买买提"),
    ("阿依古丽•买买提", "阿依古丽·买买提"),  # the dot people type, as the ID card has it
    ("Ｊｏｈｎ Ｓｍｉｔｈ", "John Smith"),  # full-width letters: NFKC
    ("Jean-Luc O. Picard", "Jean-Luc O. Picard"),
])
def test_legal_names_are_normalised_and_kept(app, customer, name, stored):
    buyer = Buyer(customer.client)
    buyer.through(1)
    response, page = buyer.post(2, **{**APPLICANT, "name": name})
    assert response.status_code == 302, page
    with app.app_context():
        assert db.session.get(User, customer.id).real_name == stored


@pytest.mark.parametrize("name", [
    "<script>alert(1)</script>", "张\x00伟", "张\u202e伟", "张伟😀", "张", "·张伟", "张··伟", "Zhang伟",
    "张" * 21, "A", "O'Brien", "张伟\ufffe",
])
def test_names_that_no_identity_document_holds_are_refused_and_not_locked(app, customer, name):
    buyer = Buyer(customer.client)
    buyer.through(1)
    response, page = buyer.post(2, **{**APPLICANT, "name": name})
    assert response.status_code == 422
    assert "请填写与身份证一致的姓名" in page or "含有无法识别的字符" in page
    assert 'aria-invalid="true"' in page
    with app.app_context():
        user = db.session.get(User, customer.id)
        assert user.real_name is None and user.id_number is None


def test_any_yes_in_the_health_declaration_ends_without_an_order(app, customer):
    buyer = Buyer(customer.client)
    buyer.through(4)
    response, page = buyer.post(5, q0="no", q1="yes", q2="no")
    assert response.headers["Location"].endswith("/done")
    page = customer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "无法在线承保" in page and "未生成订单" in page
    response, page = buyer.post(5, q0="no", q1="")
    assert response.status_code == 302  # finished applications cannot be changed


def test_unanswered_health_questions_are_refused(customer):
    buyer = Buyer(customer.client)
    buyer.through(4)
    response, page = buyer.post(5, q0="no")
    assert response.status_code == 422 and "请逐项回答健康告知问题" in page


def test_breakpoints_resume_where_left_and_can_be_deleted(app, customer):
    buyer = Buyer(customer.client)
    buyer.through(2)
    product_page = customer.client.get(f"/products/{MEDICAL}").get_data(as_text=True)
    assert f'href="/buy/{MEDICAL}/{buyer.number}/3">继续投保' in product_page
    assert customer.client.get(f"/buy/{MEDICAL}").headers["Location"].endswith(f"{buyer.number}/3")
    mine = customer.client.get("/me/applications").get_data(as_text=True)
    assert buyer.number in mine and "停在“被保险人”" in mine
    _, page = buyer.page(2)
    assert 'value="13800138000"' in page  # the field being edited shows it whole
    assert "已实名，不可修改" in page and "张*" in page  # the locked identity, masked
    response = customer.client.post(f"/buy/{MEDICAL}/{buyer.number}/delete", data={"csrf_token": token(mine)})
    assert response.status_code == 302
    assert "没有未完成的投保" in customer.client.get("/me/applications").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Application).where(Application.number == buyer.number)) is None


def test_steps_cannot_be_skipped_or_tampered_with(member, customer):
    buyer = Buyer(customer.client)
    response, _ = buyer.page(4)
    assert response.status_code == 302 and response.headers["Location"].endswith("/1")
    assert buyer.page(7)[0].status_code in (302, 404)
    response, page = buyer.post(1, plan="gold", frequency="annual")
    assert response.status_code == 422 and "请选择本产品提供的保障方案" in page
    other = member(birth_date=date(1985, 1, 1))
    assert other.client.get(f"/buy/{MEDICAL}/{buyer.number}/1").status_code == 404  # not theirs


def test_buying_needs_login_and_the_agreements(client, member):
    assert client.get(f"/buy/{MEDICAL}").headers["Location"].startswith("/login?next=")
    newcomer = member()
    assert newcomer.client.get(f"/buy/{MEDICAL}").headers["Location"] == f"/agreements/accept?next=/buy/{MEDICAL}"


def test_no_personal_data_reaches_the_logs(customer, caplog):
    with caplog.at_level(logging.DEBUG):
        Buyer(customer.client).through(6)
    logged = caplog.text
    for secret in (ME, "13800138000", "张伟", "科技园路"):
        assert secret not in logged


STEP_FIELDS = {1: ["plan", "frequency"], 2: list(APPLICANT), 3: ["relation", "name", "id_number", "social_security"],
               4: ["kind", "people-0-name", "people-0-id_number", "people-0-relation", "people-0-share"],
               5: ["q0", "q1", "q2"], 6: ["acknowledged"]}


def test_random_data_to_every_step_never_fails(customer):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    buyer = Buyer(customer.client)
    buyer.through(5)
    page = customer.client.get(f"/products/{MEDICAL}").get_data(as_text=True)
    csrf = token(page)

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(step=st.integers(0, 7), data=st.dictionaries(st.sampled_from(sorted({f for fs in STEP_FIELDS.values()
                                                                                  for f in fs})),
                                                        st.one_of(st.text(max_size=25),
                                                                  st.sampled_from(["", "yes", "no", "self", "child",
                                                                                   ME, "100", "50,50"])),
                                                        max_size=8))
    def post_anything(step, data):
        response = customer.client.post(f"/buy/{MEDICAL}/{buyer.number}/{step}", data={"csrf_token": csrf, **data})
        assert response.status_code in (302, 404, 422), response.status_code

    post_anything()


def test_inline_check_gives_the_same_message_as_the_submit(customer):
    buyer = Buyer(customer.client)
    buyer.through(1)
    _, page = buyer.page(2)
    assert 'hx-post="/buy/anxin-million-medical/' in page and 'hx-target="#mobile-error"' in page
    response = customer.client.post(f"/buy/{MEDICAL}/{buyer.number}/2/check",
                                     data={**APPLICANT, "mobile": "123", "csrf_token": token(page)},
                                     headers={"HX-Request": "true", "HX-Trigger-Name": "mobile"})
    assert response.status_code == 200
    assert response.get_data(as_text=True).strip() == '<p class="field-error" id="mobile-error">请填写11位中国大陆手机号码</p>'
    response = customer.client.post(f"/buy/{MEDICAL}/{buyer.number}/2/check",
                                     data={**APPLICANT, "csrf_token": token(page)},
                                     headers={"HX-Request": "true", "HX-Trigger-Name": "mobile"})
    assert response.get_data(as_text=True).strip() == '<p class="field-error" id="mobile-error"></p>'
    _, submitted = buyer.post(2, **{**APPLICANT, "mobile": "123"})
    assert '<p class="field-error" id="mobile-error">请填写11位中国大陆手机号码</p>' in submitted


def test_the_real_name_identity_is_locked_after_the_first_application(app, customer):
    from app.auth.models import User
    Buyer(customer.client).through(2)
    with app.app_context():
        user = db.session.get(User, customer.id)
        assert user.real_name == "张伟" and user.id_number == ME and user.birth_date == date(1990, 5, 1)
    second = Buyer(customer.client, "kanghu-lifetime-ci")
    second.through(1, plan="sa30")
    _, page = second.page(2)
    assert "已实名，不可修改" in page and "张*" in page and f'value="{ME}"' not in page
    response, _ = second.post(2, **{**APPLICANT, "name": "李四", "id_number": DAD})
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.scalar(select(Application).where(Application.number == second.number)).details
        assert saved["applicant"]["name"] == "张伟" and saved["applicant"]["id_number"] == ME


def test_a_step_sent_twice_is_saved_once(app, customer):
    buyer = Buyer(customer.client)
    buyer.through(1)
    _, page = buyer.page(2)
    data = {**APPLICANT, "csrf_token": token(page)}
    first = customer.client.post(f"/buy/{MEDICAL}/{buyer.number}/2", data=data)
    second = customer.client.post(f"/buy/{MEDICAL}/{buyer.number}/2", data=data)
    assert first.status_code == second.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(Application).where(Application.user_id == customer.id)).all()
        assert len(rows) == 1 and rows[0].step == 3


def test_a_number_under_another_product_is_refused(customer):
    buyer = Buyer(customer.client)
    assert customer.client.get(f"/buy/kanghu-lifetime-ci/{buyer.number}/1").status_code == 404
    assert customer.client.get(f"/buy/no-such-product/{buyer.number}/1").status_code == 404
    assert customer.client.get(f"/buy/{MEDICAL}/WB00000000000000000000/1").status_code == 404


def test_me_shows_the_locked_identity_masked_and_is_never_cached(customer):
    Buyer(customer.client).through(2)
    response = customer.client.get("/me")
    page = response.get_data(as_text=True)
    assert "张* · 110***********" + ME[-4:] in page and "已实名，不可修改" in page and ME not in page
    for path in ("/me", "/me/applications", "/me/consents", "/me/privacy", "/me/consents.json"):
        assert customer.client.get(path).headers["Cache-Control"] == "private, no-store"
