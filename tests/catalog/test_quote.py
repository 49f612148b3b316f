"""The premium calculator: exact premiums from the rate table, the explanation, field errors, CSRF."""
import re

import pytest

from tests.support.purchase import premium
from tests.support.web import HX, csrf_token

MEDICAL = "/products/anxin-million-medical"  # factor 1.00, monthly loading 1.00


def quote(client, slug_path=MEDICAL, headers=None, token=True, **fields):
    data = {"plan": "basic", "gender": "M", "social_security": "yes", "frequency": "annual", **fields}
    if token:
        data["csrf_token"] = csrf_token(client, slug_path)
    response = client.post(slug_path + "/quote", data=data, headers=headers or {})
    return response, response.get_data(as_text=True)


def error(html, field):
    return re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html).group(1)


def test_product_page_opens_with_a_premium(client):
    html = client.get(MEDICAL).get_data(as_text=True)
    assert premium(html) == "¥160.00"  # 30 周岁, 男, 有社保, 基础版, 年缴
    assert "为什么是这个价格" in html


@pytest.mark.parametrize("fields, expected, row", [
    # Rows of the 基础版 rate table: curve 160/220/1450 yuan for bands 26–30, 31–35, 61–65.
    ({"age": "30"}, "¥160.00", "基础版 · 26–30周岁 · 男 · 有社保"),
    ({"age": "31"}, "¥220.00", "基础版 · 31–35周岁 · 男 · 有社保"),
    ({"age": "65"}, "¥1,450.00", "基础版 · 61–65周岁 · 男 · 有社保"),
    ({"age": "30", "gender": "F"}, "¥169.60", "基础版 · 26–30周岁 · 女 · 有社保"),
    ({"age": "30", "social_security": "no"}, "¥296.00", "基础版 · 26–30周岁 · 男 · 无社保"),
    ({"age": "30", "plan": "plus"}, "¥220.80", "升级版 · 26–30周岁 · 男 · 有社保"),
    ({"age": "0"}, "¥420.00", "基础版 · 0–4周岁 · 男 · 有社保"),
])
def test_premium_comes_from_the_matching_rate_table_row(client, fields, expected, row):
    response, html = quote(client, **fields)
    assert response.status_code == 200
    assert premium(html) == expected
    assert f"{row} → 年缴保费 {expected}" in html
    assert '<tr class="current"><td>' + row.split(" · ", 1)[1] + "</td><td>" + expected in html


def test_birth_date_gives_the_age_counted_on_today(client):
    # Today is 2026-11-25 (tests/conftest.py): born 1995-11-26 is still 30, born 1995-11-25 is 31.
    _, html = quote(client, birth_date="1995-11-26", age="")
    assert premium(html) == "¥160.00" and "30周岁（按出生日期 1995-11-26 计算至 2026-11-25）" in html
    _, html = quote(client, birth_date="1995-11-25", age="50")  # a birth date wins over the age
    assert premium(html) == "¥220.00" and "31周岁" in html


def test_monthly_payment_applies_the_loading_and_rounds_to_the_fen(client):
    _, html = quote(client, age="30", frequency="monthly")
    assert premium(html) == "¥13.33"  # 160.00 × 1.00 ÷ 12 = 13.333…
    assert "¥13.33 × 12期 = ¥159.96" in html
    # 康宁e保: factor 0.92 → 147.20 a year; loading 1.04: 147.20 × 1.04 ÷ 12 = 12.7573… → 12.76
    _, html = quote(client, "/products/kangning-e-medical", age="30", frequency="monthly")
    assert premium(html) == "¥12.76" and "年缴保费 × 1.04 ÷ 12" in html


def test_products_not_priced_by_gender_ignore_it(client):
    _, html = quote(client, "/products/changxing-accident", age="30", gender="", social_security="")
    assert premium(html) == "¥99.00" and "基础版 · 26–30周岁 → 年缴保费 ¥99.00" in html


@pytest.mark.parametrize("fields, field, message", [
    ({"age": "66"}, "age", "本产品仅承保出生满28天–65周岁的被保险人，当前为66周岁"),
    ({"age": "", "birth_date": "1950-01-01"}, "birth_date", "本产品仅承保出生满28天–65周岁的被保险人"),
    ({"age": "", "birth_date": "2026-11-26"}, "birth_date", "出生日期不能晚于今天"),
    ({"age": "", "birth_date": "1990-02-30"}, "birth_date", "请按 年-月-日 填写出生日期"),
    ({"age": "abc"}, "age", "请输入 0–120 之间的整数周岁"),
    ({"age": "-1"}, "age", "请输入 0–120 之间的整数周岁"),
    ({"age": ""}, "age", "请填写被保险人的出生日期或周岁年龄"),
    ({"plan": "gold"}, "plan", "请选择本产品提供的保障方案"),
    ({"plan": ""}, "plan", "请选择本产品提供的保障方案"),
    ({"gender": "X"}, "gender", "请选择被保险人的性别"),
    ({"social_security": ""}, "social_security", "请选择被保险人是否有医保（社保）"),
    ({"frequency": "weekly"}, "frequency", "本产品不支持该缴费方式"),
])
def test_bad_input_gets_a_chinese_message_on_its_field(client, fields, field, message):
    response, html = quote(client, **{"age": "30", **fields})
    assert response.status_code == 422
    assert message in error(html, field)
    assert "data-testid=\"premium\"" not in html
    assert "<html" in html  # without JavaScript: the whole page again, with what was typed kept


def test_input_is_kept_after_an_error(client):
    _, html = quote(client, age="66", gender="F", plan="plus")
    assert 'name="age" type="number" value="66"' in html or 'value="66"' in html
    assert re.search(r'checked[^>]*value="F"|value="F"[^>]*checked', html)
    assert re.search(r'checked[^>]*value="plus"|value="plus"[^>]*checked', html)


def test_frequency_not_offered_by_the_product_is_refused(client):
    response, html = quote(client, "/products/changxing-accident", age="30", frequency="monthly")
    assert response.status_code == 422 and "本产品不支持该缴费方式" in error(html, "frequency")


def test_htmx_quote_returns_the_quote_block_and_out_of_band_errors(client):
    response, html = quote(client, headers=HX, age="45")
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="quote"') and premium(html) == "¥380.00"
    assert 'id="age-error" hx-swap-oob="true"></p>' in html  # clears an earlier error
    assert "HX-Request" in response.headers["Vary"]
    response, html = quote(client, headers=HX, age="99")
    assert response.status_code == 422
    assert re.search(r'id="age-error" hx-swap-oob="true">本产品仅承保', html)


def test_quote_without_csrf_token_is_refused(client):
    response, html = quote(client, token=False, age="30")
    assert response.status_code == 400 and "页面已过期" in html


def test_htmx_quote_with_token_in_header_is_accepted(client):
    token = csrf_token(client, MEDICAL)
    response = client.post(MEDICAL + "/quote", headers={**HX, "X-CSRFToken": token},
                           data={"plan": "basic", "age": "30", "gender": "M", "social_security": "yes"})
    assert response.status_code == 200 and "¥160.00" in response.get_data(as_text=True)


def test_quote_for_unknown_product_is_404(client):
    response = client.post("/products/nope/quote", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 404


def test_too_many_quotes_get_the_429_page(app, client):
    app.config["RATELIMIT_QUOTE"] = "3 per minute"
    try:
        statuses = [quote(client, age="30")[0].status_code for _ in range(4)]
        response, html = quote(client, age="30")
    finally:
        app.config["RATELIMIT_QUOTE"] = "100000 per minute"
    assert statuses == [200, 200, 200, 429]
    assert response.status_code == 429 and "操作太频繁" in html and "<html" in html
