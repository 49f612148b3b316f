"""The specific hostile requests issue 13 found answering 500 or showing what they should not, on both
databases: NUL in paths and form values, dates out of range, free text from the URL, English messages."""

import pytest

from tests.support.purchase import Buyer
from tests.support.web import HX, csrf_token, token


@pytest.mark.parametrize("method, path", [
    ("GET", "/agreements/%00privacy"),
    ("GET", "/orders/DD%00X"),
    ("GET", "/orders/DD%00X/pay"),
    ("POST", "/orders/DD%00X/check"),
    ("GET", "/policies/P%00X"),
    ("GET", "/policies/P%00X.pdf"),
    ("GET", "/buy/anxin-million-medical/WB%00X/1"),
    ("POST", "/me/consents/%00x/withdraw"),
    ("GET", "/me/vouchers/%1Fabc"),
    ("GET", "/m/login/%00"),
])
def test_a_control_character_in_a_path_is_not_found(customer, method, path):
    response = customer.client.open(path, method=method, data={"csrf_token": csrf_token(customer.client)})
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_a_nul_in_the_partner_login_is_refused_on_the_field(client):
    page = client.get("/partner/login").get_data(as_text=True)
    response = client.post("/partner/login", data={"csrf_token": token(page), "username": "jiechi\x00-bj01",
                                                   "password": "x"})
    assert response.status_code == 422
    assert "含有无法识别的字符" in response.get_data(as_text=True)


def test_messages_are_chinese_and_said_once(client):
    page = client.get("/partner/login").get_data(as_text=True)
    response = client.post("/partner/login", data={"csrf_token": token(page), "username": "x" * 41,
                                                   "password": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Field cannot be longer" not in html
    assert "字段长度不能超过 40 个字符" in html or "最多" in html

    html = client.get("/products?age=abc").get_data(as_text=True)
    assert html.count("请输入 0–120 之间的整数周岁") == 1
    html = client.get("/products?age=abc", headers=HX).get_data(as_text=True)
    assert html.count("请输入 0–120 之间的整数周岁") == 1


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01", "from=2026-02-30&to=99999-01-01",
                                   "to=%00", "from=9999-12-31&to=0001-01-01"])
def test_a_date_out_of_range_in_the_redemptions_is_refused_not_a_500(staff_of, query):
    staff = staff_of()
    response = staff.client.get(f"/partner/redemptions?{query}")
    assert response.status_code in (200, 422)
    html = response.get_data(as_text=True)
    assert "核销记录" in html
    if response.status_code == 422:
        assert "请填写 1900–2100 年之间的日期" in html or "日期" in html


def test_notices_on_a_step_come_from_codes_not_the_url(customer):
    buyer = Buyer(customer.client)
    buyer.through(3)
    _, page = buyer.page(4)
    response = customer.client.get(f"/buy/anxin-million-medical/{buyer.number}/4?notice=中奖了！请联系客服领取")
    assert "中奖了" not in response.get_data(as_text=True)
    response = customer.client.get(f"/buy/anxin-million-medical/{buyer.number}/4?notice=repriced")
    assert "已按被保险人的实际年龄和条件重新计算保费" in response.get_data(as_text=True)


def test_a_form_value_of_ten_kilobytes_is_refused_and_not_stored(app, customer):
    from sqlalchemy import select

    from app.extensions import db
    from app.purchase.models import Application

    buyer = Buyer(customer.client)
    buyer.through(1)
    response, page = buyer.post(2, name="张伟", id_number="110101199005011315", mobile="13800138000", email="",
                                province="广东", city="深圳", district="南山区", address="科技园路" * 2500)
    assert response.status_code == 422 and "详细地址最多100个字" in page
    with app.app_context():
        saved = db.session.scalar(select(Application).where(Application.number == buyer.number))
        assert "applicant" not in saved.details


