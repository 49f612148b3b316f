"""The car quote: each line from the rating tables with its reasons, every field checked in Chinese."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.purchase import vehicles
from tests.support.identity import fix_id
from tests.support.purchase import GOOD
from tests.support.web import HX, csrf_token, token


def post(client, headers=None, **changes):
    data = {**GOOD, **changes, "csrf_token": csrf_token(client, "/car")}
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post("/car", data=data, headers=headers or {})
    return response, response.get_data(as_text=True)


def lines(html):
    names = re.findall(r'<th scope="row">([^<]+)</th>\s*<td data-testid="car-line">([^<]+)</td>', html)
    return dict(names)


def test_the_quote_lines_and_total(client):
    response, html = post(client)
    assert response.status_code == 200
    assert lines(html) == {"交强险": "¥855.00", "车船税": "¥480.00", "第三者责任险 200万": "¥1,241.00",
                           "车损险": "¥2,358.75", "车上人员责任险 每座1万": "¥114.75"}
    assert '<td data-testid="car-total">¥5,049.50</td>' in html
    assert "基础保费：家庭自用 6座以下 ¥950.00" in html and "浮动比率：上年无有责事故 × 0.90" in html
    assert "新车购置价 ¥150,000.00 × 1.15% = ¥2,775.00" in html
    assert "李*（110***********" in html  # masked on screen; the whole number only in the field typed into
    assert html.count(GOOD["owner_id"]) == 1 and f'value="{GOOD["owner_id"]}"' in html


def test_a_new_energy_car_pays_no_vehicle_tax(client):
    _, html = post(client, plate="粤BD12345")
    assert lines(html)["车船税"] == "¥0.00" and "新能源汽车免征车船税" in html


def test_history_factors(client):
    _, html = post(client, claims="3+", first_registration="2020-05-01")
    assert lines(html)["交强险"] == "¥1,045.00"  # 950 × 1.10
    assert lines(html)["第三者责任险 200万"] == "¥2,190.00"  # 1460 × 1.50
    _, html = post(client, first_registration="2026-06-01", claims="3+")  # a new car has no history
    assert lines(html)["交强险"] == "¥950.00"


def test_only_chosen_commercial_lines_are_priced(client):
    _, html = post(client, third_party="", damage=None, passengers=None, purchase_price="")
    assert set(lines(html)) == {"交强险", "车船税"}


@pytest.mark.parametrize("field, value, message", [
    ("plate", "京I12345", "车牌号格式不正确"),
    ("plate", "", "请填写车牌号"),
    ("vin", "1M8GDM9A1KP042788", "车架号校验位不符"),
    ("vin", "1M8GDM9AXKP04278", "车架号（VIN）应为17位"),
    ("vin", "1M8GDM9AXKPO42788", "不会出现字母 I、O、Q"),
    ("engine_no", "发动机", "发动机号应为4–20位字母或数字"),
    ("owner_id", "110101198003071231", "身份证号码无效"),
    ("owner_id", fix_id("110101201001011230"), "车主须年满18周岁"),
    ("owner_name", "李", "请填写与身份证一致的姓名"),
    ("first_registration", "2030-01-01", "初次登记日期不能晚于今天"),
    ("first_registration", "2020-02-30", "请按 年-月-日 填写初次登记日期"),
    ("seats", "12", "私家车座位数应在2–9座之间"),
    ("seats", "abc", "座位数请填写整数"),
    ("purchase_price", "", "投保车损险需要填写新车购置价"),
    ("purchase_price", "100", "新车购置价应在2万–500万元之间"),
])
def test_each_bad_field_gets_its_message(client, field, value, message):
    response, html = post(client, **{field: value})
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html).group(1)
    assert message in error and 'data-testid="car-total"' not in html


def test_htmx_gets_the_block_and_csrf_is_required(client):
    response, html = post(client, headers=HX)
    assert response.status_code == 200 and "<html" not in html and html.lstrip().startswith('<div id="car"')
    assert client.post("/car", data=GOOD).status_code == 400


def test_plates_and_vins():
    assert vehicles.normalise_plate(" 京a·12345 ") == "京A12345"
    assert vehicles.is_valid_plate("京A12345") and vehicles.is_new_energy_plate("粤BD12345")
    assert not vehicles.is_valid_plate("XA12345") and not vehicles.is_valid_plate("京A1234")
    assert vehicles.vin_check_digit("1M8GDM9AXKP042788") == "X"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(sorted(GOOD)), st.text(max_size=30), max_size=8))
def test_random_input_never_fails(client, data):
    response, _ = post(client, **data)
    assert response.status_code in (200, 422)


def test_a_signed_in_users_quote_is_kept_and_found_again(app, customer):
    from sqlalchemy import text

    from app.extensions import db
    response, _ = post(customer.client)
    assert response.status_code == 200
    page = customer.client.get("/car").get_data(as_text=True)
    assert "这是你上次的报价" in page and '<td data-testid="car-total">¥5,049.50</td>' in page
    with app.app_context():
        stored = db.session.execute(text("SELECT data FROM saved_car_quote")).scalars().all()
        assert stored and all(GOOD["owner_id"] not in row and "李四" not in row for row in stored)
    privacy = customer.client.get("/me/privacy").get_data(as_text=True)
    customer.client.post("/me/privacy/reminders", data={"enabled": "0", "csrf_token": token(privacy)})
    assert "这是你上次的报价" not in customer.client.get("/car").get_data(as_text=True)


def test_anonymous_quotes_are_not_kept(client):
    post(client)
    assert "这是你上次的报价" not in client.get("/car").get_data(as_text=True)
