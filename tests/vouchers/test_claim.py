"""Offers and claiming: the list and its filters, the partner's agreement accepted in the claim step,
and each rule (stock, per-user limit, policyholders only, dates) with its message."""
import re
from datetime import date, timedelta

from sqlalchemy import func, select, text

from app.agreements.models import Consent
from app.extensions import db
from app.vouchers import services
from app.vouchers.models import Offer, Voucher
from tests.support.agreements import accepted_user
from tests.support.pay import paid_policy
from tests.support.vouchers import claim, claimed_code
from tests.support.web import HX, csrf_token, token
from tests.support.wechat import MinorDesktop, Phone, approve, guardian_opens


def test_offers_list_with_partner_price_validity_stock_and_cities(client):
    page = client.get("/offers").get_data(as_text=True)
    for text_ in ("车险客户专享 · 免费精致洗车", "洁驰洗车", "9.9元标准洗车", "到店付 <strong>¥9.90</strong>", "免费",
                  "29.9元超声波洗牙", "微笑齿科", "剩余 ", "可用城市：上海、北京", "可用城市：上海、广州、深圳", "开始领取"):
        assert text_ in page, text_


def test_filter_by_kind_and_city_with_htmx_and_without(client):
    dental = client.get("/offers?kind=dental").get_data(as_text=True)
    assert "洗牙" in dental and "9.9元标准洗车" not in dental
    chengdu = client.get("/offers?city=成都", headers=HX)
    html = chengdu.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="results"') and "<html" not in html  # the block only
    assert "微笑齿科" in html and "洁驰洗车" not in html
    nothing = client.get("/offers?kind=carwash&city=成都").get_data(as_text=True)
    assert "暂无符合条件的权益" in nothing
    assert client.get("/offers?kind=<script>&city=火星").status_code == 200  # nonsense: everything


def test_an_offer_shows_terms_stores_and_the_partners_agreement(app, client):
    offer_id = _offer_id(app, "9.9元标准洗车")
    page = client.get(f"/offers/{offer_id}").get_data(as_text=True)
    for text_ in ("五座轿车标准洗车一次", "到店支付9.9元", "蓝鲸汽车美容·深圳南山店", "广州市天河区", "《蓝鲸汽车美容用户服务协议》",
                  "登录后领取"):
        assert text_ in page, text_
    agreement = client.get("/agreements/partner-lanjing").get_data(as_text=True)
    assert "蓝鲸汽车美容用户服务协议" in agreement and "核销后服务券即失效" in agreement
    assert client.get("/offers/999999").status_code == 404


def _offer_id(app, title):
    with app.app_context():
        return db.session.scalar(select(Offer.id).where(Offer.title == title))


def test_claiming_needs_the_partners_agreement_and_records_it(app, customer, make_offer):
    offer_id = make_offer("lanjing")
    page = customer.client.get(f"/offers/{offer_id}").get_data(as_text=True)
    assert "我已阅读并同意" in page and "《蓝鲸汽车美容用户服务协议》" in page
    refused = claim(customer.client, offer_id, agree=False)
    assert refused.status_code == 422 and "请阅读并同意《蓝鲸汽车美容用户服务协议》" in refused.get_data(as_text=True)
    code = claimed_code(customer.client, offer_id)
    with app.app_context():
        rows = db.session.scalars(select(Consent).where(Consent.user_id == customer.id)).all()
        assert "partner-lanjing" in {row.version.agreement.kind for row in rows}
    ledger = customer.client.get("/me/consents").get_data(as_text=True)
    assert "蓝鲸汽车美容用户服务协议" in ledger
    second = make_offer("lanjing", title="第二张测试券")
    assert 'name="agreement"' not in customer.client.get(f"/offers/{second}").get_data(as_text=True)  # asked once
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{12}", code)


def test_claiming_needs_login_and_our_agreements(app, client, member, make_offer):
    offer_id = make_offer()
    response = client.post(f"/offers/{offer_id}/claim", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    newcomer = member(nickname="未同意协议的人")
    response = claim(newcomer.client, offer_id)
    assert "请阅读并同意以下协议" in response.get_data(as_text=True)  # the gate first
    with app.app_context():
        assert _vouchers(offer_id) == 0


def _vouchers(offer_id, user_id=None):
    stmt = select(func.count()).select_from(Voucher).where(Voucher.offer_id == offer_id)
    if user_id:
        stmt = stmt.where(Voucher.user_id == user_id)
    return db.session.scalar(stmt)


def test_the_per_user_limit_holds(app, customer, make_offer):
    offer_id = make_offer(per_user_limit=2)
    claimed_code(customer.client, offer_id)
    claimed_code(customer.client, offer_id)
    refused = claim(customer.client, offer_id)
    assert refused.status_code == 422 and "每人限领2张，你已领过" in refused.get_data(as_text=True)
    with app.app_context():
        assert _vouchers(offer_id, customer.id) == 2


def test_stock_runs_out_and_is_never_negative(app, customer, member, make_offer):
    offer_id = make_offer(stock_total=1, stock_left=1)
    claimed_code(customer.client, offer_id)
    other = accepted_user(member)
    refused = claim(other.client, offer_id)
    assert refused.status_code == 422 and "已领完" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Offer, offer_id).stock_left == 0
        try:
            db.session.execute(text("UPDATE offer SET stock_left = -1 WHERE id = :id"), {"id": offer_id})
            db.session.commit()
            raise AssertionError("the database let the stock go below zero")
        except Exception as error:  # noqa: BLE001  (IntegrityError on both databases)
            db.session.rollback()
            assert "stock" in str(error).lower() or "check" in str(error).lower()


def test_outside_its_dates_an_offer_cannot_be_claimed(app, customer, make_offer, clock):
    today = date(2026, 11, 25)
    future = make_offer(starts_on=today + timedelta(days=3))
    past = make_offer(starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=1))
    refused = claim(customer.client, future)
    assert refused.status_code == 422 and "2026-11-28 开始领取" in refused.get_data(as_text=True)
    refused = claim(customer.client, past)
    assert refused.status_code == 422 and "活动已结束" in refused.get_data(as_text=True)
    clock.advance(days=3)
    claimed_code(customer.client, future)


def test_a_policyholders_benefit_needs_a_paid_policy_of_that_category(app, customer, make_offer, pay):
    offer_id = make_offer("weixiao", kind="dental", required_category="medical")
    page = customer.client.get(f"/offers/{offer_id}").get_data(as_text=True)
    assert "本券为百万医疗保单持有人专享，投保后即可领取" in page and "立即领取" not in page
    refused = claim(customer.client, offer_id)
    assert refused.status_code == 422 and "保单持有人专享" in refused.get_data(as_text=True)
    paid_policy(customer.client, pay)  # 安心百万医疗: a medical policy
    claimed_code(customer.client, offer_id)


def test_a_surrendered_policy_no_longer_qualifies(app, customer, make_offer, pay):
    offer_id = make_offer("weixiao", kind="dental", required_category="medical")
    policy_number = paid_policy(customer.client, pay)
    page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    customer.client.post(f"/policies/{policy_number}/surrender", data={"csrf_token": token(page), "confirmed": "y"})
    pay.state.complete_refunds()
    assert "保单持有人专享" in claim(customer.client, offer_id).get_data(as_text=True)


def test_the_voucher_page_is_the_owners_with_qr_code_groups_stores_and_status(app, customer, member, make_offer):
    offer_id = make_offer()
    code = claimed_code(customer.client, offer_id)
    page = customer.client.get(f"/me/vouchers/{code}").get_data(as_text=True)
    assert "领取成功" in page and "未使用" in page and f"{code[:4]} {code[4:8]} {code[8:]}" in page
    assert 'class="qr-image" src="data:image/svg+xml;base64,' in page and "洁驰洗车·上海徐汇店" in page
    assert "2026-11-25 至 2026-12-24" in page  # 30 days, the day of claiming included
    assert customer.client.get(f"/me/vouchers/{code.lower()}").status_code == 200  # typed in lowercase
    other = member(nickname="旁人")
    assert other.client.get(f"/me/vouchers/{code}").status_code == 404
    mine = customer.client.get("/me/vouchers").get_data(as_text=True)
    assert "测试洗车券" in mine and "出示券码" in mine
    assert customer.client.get(f"/me/vouchers/{code}").headers["Cache-Control"] == "private, no-store"
    with app.app_context():
        stored = db.session.execute(text("SELECT code, code_hash FROM voucher WHERE user_id = :u"),
                                    {"u": customer.id}).all()
        assert all(code not in row.code and code not in row.code_hash for row in stored)  # not in clear


def test_an_expired_voucher_says_so(customer, make_offer, clock):
    code = claimed_code(customer.client, make_offer(valid_days=1))
    clock.advance(days=2)
    assert "已过期" in customer.client.get(f"/me/vouchers/{code}").get_data(as_text=True)


def test_codes_have_a_check_character_that_catches_typos():
    codes = {services.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:200]:
        assert services.check_code(code) == code
        assert services.check_code(f"{code[:4]}-{code[4:8]} {code[8:].lower()}") == code
        position = 5
        wrong = code[:position] + next(c for c in services.ALPHABET if c != code[position]) + code[position + 1:]
        try:
            services.check_code(wrong)
            raise AssertionError(f"{wrong} passed")
        except services.VoucherError as error:
            assert "校验不通过" in error.message
    for text_ in ("", "ABC", "0O1IL0O1IL0O", "ABCDEFGHJKMNP"):
        try:
            services.check_code(text_)
            raise AssertionError(text_)
        except services.VoucherError:
            pass


def test_the_claim_needs_the_csrf_token(customer, make_offer):
    offer_id = make_offer()
    assert customer.client.post(f"/offers/{offer_id}/claim", data={"agreement": "y"}).status_code == 400


def test_the_home_page_shows_offers(client):
    page = client.get("/").get_data(as_text=True)
    assert "权益券" in page and "9.9元标准洗车" in page and "春节前洗车特惠" not in page  # not started yet


def test_a_minor_cannot_accept_a_partners_agreement_alone(app, wechat, member, make_offer):
    minor = member(nickname="十五岁的用户")
    desktop = MinorDesktop(app, minor.client)  # our own agreements, approved by a guardian
    guardian = Phone(app)
    guardian_opens(guardian, desktop.token)
    approve(guardian, desktop.token)
    desktop.poll()
    offer_id = make_offer("lanjing")
    page = minor.client.get(f"/offers/{offer_id}").get_data(as_text=True)
    assert "未满18周岁，需由监护人同意《蓝鲸汽车美容用户服务协议》" in page and "立即领取" not in page
    refused = claim(minor.client, offer_id)
    assert refused.status_code == 422 and "未满18周岁" in refused.get_data(as_text=True)
    with app.app_context():
        assert _vouchers(offer_id, minor.id) == 0
