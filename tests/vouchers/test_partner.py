"""The partner staff's pages: their own sign-in (lockout, limits, apart from consumers), looking a code
up, redeeming it once, the messages for everything else, and the store's redemptions."""
import csv
import io

from sqlalchemy import select

from app.extensions import db
from app.vouchers.models import PartnerStaff, Voucher
from tests.support.vouchers import PASSWORD, claimed_code, redeem
from tests.support.web import HX, token


def login(client, username, password):
    page = client.get("/partner/login").get_data(as_text=True)
    return client.post("/partner/login", data={"csrf_token": token(page), "username": username, "password": password})


def test_staff_sign_in_and_out_and_the_pages_need_it(app, staff_of):
    anonymous = app.test_client()
    response = anonymous.get("/partner/redeem")
    assert response.status_code == 302 and response.headers["Location"].startswith("/partner/login")
    staff = staff_of()
    page = staff.client.get("/partner/redeem").get_data(as_text=True)
    assert "核销权益券" in page and "洁驰洗车·北京朝阳店 · 测试店员" in page
    cookie = staff.client.get_cookie("partner_session", path="/partner")
    assert cookie is not None and cookie.http_only
    copy = app.test_client()
    copy.set_cookie("partner_session", cookie.value, path="/partner")
    assert copy.get("/partner/redeem").status_code == 200  # another copy of the same session
    staff.client.post("/partner/logout", data={"csrf_token": token(page)})
    assert staff.client.get("/partner/redeem").status_code == 302
    assert copy.get("/partner/redeem").status_code == 302  # logging out ended every copy


def test_wrong_passwords_lock_the_account(app, staff_of, clock):
    staff = staff_of()
    client = app.test_client()
    for left in (4, 3, 2, 1):
        response = login(client, staff.username, "wrong password")
        assert response.status_code == 422 and f"再输错{left}次账号将被锁定15分钟" in response.get_data(as_text=True)
    response = login(client, staff.username, "wrong password")
    assert "账号已锁定15分钟" in response.get_data(as_text=True)
    assert "账号已锁定" in login(client, staff.username, PASSWORD).get_data(as_text=True)  # even the right one
    clock.advance(minutes=16)
    assert login(client, staff.username, PASSWORD).status_code == 302
    response = login(app.test_client(), "nobody-at-all", PASSWORD)
    assert response.status_code == 422 and "用户名或密码错误" in response.get_data(as_text=True)


def test_login_attempts_are_rate_limited(app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_PARTNER_LOGIN", "3 per minute")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    answers = [login(client, "someone", "guess").status_code for _ in range(4)]
    assert answers == [422, 422, 422, 429]


def test_consumer_and_staff_sessions_grant_nothing_to_each_other(app, customer, staff_of):
    assert customer.client.get("/partner/redeem").status_code == 302  # a consumer is not staff
    staff = staff_of()
    assert staff.client.get("/me").status_code == 302  # staff are not consumers
    assert staff.client.get("/me/vouchers").status_code == 302


def test_lookup_shows_the_voucher_then_redeeming_uses_it_once(app, customer, staff_of, make_offer):
    offer_id = make_offer(price_fen=990)
    code = claimed_code(customer.client, offer_id)
    staff = staff_of()
    page = staff.client.get(f"/partner/redeem?code={code[:4]} {code[4:8]} {code[8:].lower()}",
                            headers=HX).get_data(as_text=True)
    assert page.lstrip().startswith('<div id="lookup"')  # the lookup block, for htmx
    assert "测试洗车券" in page and "未使用" in page and "¥9.90" in page and "确认核销" in page
    assert "测**户" in page and "测试用户" not in page  # the holder's nickname, masked
    done = redeem(staff, code).get_data(as_text=True)
    assert "核销成功" in done and "已使用" in done
    again = redeem(staff, code)
    assert again.status_code == 409 and "已于 2026-11-25 10:00 在 洁驰洗车·北京朝阳店 核销" in again.get_data(as_text=True)
    colleague = staff_of("洁驰洗车·上海徐汇店")  # another store of the same partner
    other_store = redeem(colleague, code).get_data(as_text=True)
    assert "已于 2026-11-25 10:00 在 洁驰洗车·北京朝阳店 核销" in other_store
    voucher_page = customer.client.get(f"/me/vouchers/{code}").get_data(as_text=True)
    assert "已使用" in voucher_page and "已于 2026-11-25 10:00 在 洁驰洗车·北京朝阳店 核销" in voucher_page
    with app.app_context():
        voucher = db.session.scalar(select(Voucher).where(Voucher.offer_id == offer_id))
        assert voucher.redeemed_staff_id == staff.id and voucher.status == "used"


def test_the_messages_for_codes_that_cannot_be_redeemed_here(app, customer, staff_of, make_offer, clock):
    staff = staff_of()
    dental = claimed_code(customer.client, make_offer("weixiao", kind="dental"))
    page = staff.client.get(f"/partner/redeem?code={dental}")
    assert page.status_code == 422 and "该券不能在本店核销" in page.get_data(as_text=True)
    assert "确认核销" not in page.get_data(as_text=True)
    typo = dental[:3] + ("2" if dental[3] != "2" else "3") + dental[4:]
    assert "券码校验不通过" in staff.client.get(f"/partner/redeem?code={typo}").get_data(as_text=True)
    assert "12位" in staff.client.get("/partner/redeem?code=ABC").get_data(as_text=True)
    from app.vouchers.services import new_code
    assert "券码不存在" in staff.client.get(f"/partner/redeem?code={new_code()}").get_data(as_text=True)
    expiring = claimed_code(customer.client, make_offer(valid_days=1))
    clock.advance(days=2)
    looked = staff.client.get(f"/partner/redeem?code={expiring}").get_data(as_text=True)
    assert "已过期" in looked and "确认核销" not in looked
    refused = redeem(staff, expiring)
    assert refused.status_code == 409 and "该券已过期" in refused.get_data(as_text=True)
    assert staff.client.get("/partner/redeem?code=%00%FF<script>").status_code == 422


def test_another_merchants_staff_are_not_told_whose_voucher_it_is(customer, staff_of, make_offer):
    dental = claimed_code(customer.client, make_offer("weixiao", kind="dental", title="测试洁牙券"))
    staff = staff_of()  # 洁驰洗车
    for answer in (staff.client.get(f"/partner/redeem?code={dental}"),
                   staff.client.get(f"/partner/redeem?code={dental}", headers=HX), redeem(staff, dental)):
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422 and "该券不能在本店核销" in html
        assert "微笑齿科" not in html and "测试洁牙券" not in html and "确认核销" not in html


def test_a_second_till_that_opened_the_code_first_learns_when_and_where_it_was_used(customer, staff_of,
                                                                                      make_offer):
    code = claimed_code(customer.client, make_offer())
    first, second = staff_of(), staff_of("洁驰洗车·上海徐汇店")
    pages = [till.client.get(f"/partner/redeem?code={code}").get_data(as_text=True) for till in (first, second)]
    assert all("未使用" in page and "确认核销" in page for page in pages)  # both tills show it unused
    assert "核销成功" in first.client.post(f"/partner/redeem/{code}", data={"csrf_token": token(pages[0])},
                                          headers=HX).get_data(as_text=True)
    used = "已于 2026-11-25 10:00 在 洁驰洗车·北京朝阳店 核销"
    late = second.client.post(f"/partner/redeem/{code}", data={"csrf_token": token(pages[1])}, headers=HX)
    html = late.get_data(as_text=True)
    assert late.status_code == 409 and html.lstrip().startswith('<div id="lookup"')  # the block htmx swaps
    assert html.count(used) == 1 and 'role="alert"' in html
    assert 'data-testid="lookup-status">已使用<' in html and "未使用" not in html and "确认核销" not in html
    plain = second.client.post(f"/partner/redeem/{code}", data={"csrf_token": token(pages[1])})  # no JavaScript
    html = plain.get_data(as_text=True)
    assert plain.status_code == 409 and "<html" in html and html.count(used) == 1
    assert 'data-testid="lookup-status">已使用<' in html and "确认核销" not in html


def test_lookups_are_rate_limited_per_staff_account(app, staff_of, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_PARTNER_LOOKUP", "5 per minute")
    staff = staff_of()
    answers = [staff.client.get(f"/partner/redeem?code=ABCDEFGHJKM{i}").status_code for i in range(2, 8)]
    assert answers[:5] == [422] * 5 and answers[5] == 429
    assert staff.client.get("/partner/redeem").status_code == 200  # the page itself is not counted
    assert staff_of().client.get("/partner/redeem?code=ABC").status_code == 422  # another account: its own


def test_redeeming_needs_the_csrf_token(customer, staff_of, make_offer):
    code = claimed_code(customer.client, make_offer())
    staff = staff_of()
    assert staff.client.post(f"/partner/redeem/{code}").status_code == 400


def test_the_stores_redemptions_by_day_with_totals_and_csv(app, member, customer, staff_of, make_offer, clock):
    staff = staff_of("洁驰洗车·上海徐汇店")  # a store no other test redeems at
    offer_id = make_offer(per_user_limit=3, settlement_fen=2500)
    codes = [claimed_code(customer.client, offer_id) for _ in range(3)]
    redeem(staff, codes[0])
    clock.advance(days=1)
    redeem(staff, codes[1])
    redeem(staff, codes[2])
    page = staff.client.get("/partner/redemptions").get_data(as_text=True)
    assert 'data-testid="total-count">3<' in page and 'data-testid="total-amount">¥75.00<' in page
    assert "2026-11-25" in page and "2026-11-26" in page and "2 张" in page and "¥50.00" in page
    one_day = staff.client.get("/partner/redemptions?from=2026-11-26&to=2026-11-26").get_data(as_text=True)
    assert 'data-testid="total-count">2<' in one_day
    export = staff.client.get("/partner/redemptions?from=2026-11-25&to=2026-11-26&format=csv")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["核销时间", "门店", "券码"] and len(rows) == 4
    assert {row[2] for row in rows[1:]} == set(codes) and all(row[4] == "25.00" for row in rows[1:])
    other_store = staff_of("蓝鲸汽车美容·广州天河店")  # sees its own store's only
    assert 'data-testid="total-count">0<' in other_store.client.get("/partner/redemptions").get_data(as_text=True)
    garbage = staff.client.get("/partner/redemptions?from=garbage&to=2026-13-45")
    assert garbage.status_code == 422 and garbage.get_data(as_text=True).count("请按 年-月-日 填写日期") == 2
    assert "共核销" in garbage.get_data(as_text=True)  # the last 7 days, as if not given


def test_add_staff_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["partners", "add-staff", "--store", "1", "--username", "cli-made-staff",
                                 "--name", "新店员"], input="short\nshort\n")
    assert result.exit_code != 0 and "at least 10" in result.output
    result = runner.invoke(args=["partners", "add-staff", "--store", "1", "--username", "cli-made-staff",
                                 "--name", "新店员", "--password", "a-long-enough-password"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        staff = db.session.scalar(select(PartnerStaff).where(PartnerStaff.username == "cli-made-staff"))
        assert staff.password_hash.startswith("$argon2")
    assert login(app.test_client(), "cli-made-staff", "a-long-enough-password").status_code == 302
    assert "洁驰洗车·北京朝阳店" in runner.invoke(args=["partners", "stores"]).output
