"""The account centre: /me (profile, locked identity, contact data, recent logins), the privacy switches
honoured where they matter (the trail is checked in the database), my data, and 注销 confirmed on the
phone through the QR bridge."""
import json
import re

from sqlalchemy import func, select

from app.agreements.models import PrivacyChoice
from app.auth.models import LoginEvent, User, WeChatIdentity
from app.catalog.models import BrowsingEvent, Product
from app.extensions import db
from app.orders.models import Policy
from app.vouchers.models import Voucher
from tests.support.agreements import accept
from tests.support.identity import ME
from tests.support.pay import paid_policy
from tests.support.purchase import Buyer
from tests.support.vouchers import claimed_code
from tests.support.web import HX, token
from tests.support.wechat import Phone, bridge_token

ME_PAGES = ["/me", "/me/privacy", "/me/data", "/me/data.json", "/me/policies", "/me/applications", "/me/vouchers",
            "/me/consents"]


def trail(app, user_id):
    with app.app_context():
        return db.session.scalars(select(BrowsingEvent).where(BrowsingEvent.user_id == user_id)).all()


def switch(client, setting, enabled, htmx=False):
    page = client.get("/me/privacy").get_data(as_text=True)
    return client.post(f"/me/privacy/{setting}", data={"csrf_token": token(page), "enabled": "1" if enabled else "0"},
                       headers=HX if htmx else {})


def test_every_me_page_needs_login_and_is_private(client, customer):
    for path in ME_PAGES:
        assert client.get(path).status_code == 302, path
        response = customer.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path


def test_me_shows_the_profile_the_locked_identity_and_links_with_counts(app, customer):
    Buyer(customer.client).through(2)  # the first application verifies the real name
    page = customer.client.get("/me").get_data(as_text=True)
    assert "测试用户" in page and "张*" in page and "110***********" + ME[-4:] in page and "已实名，不可修改" in page
    assert ME not in page
    for link in ("我的保单", "我的投保单 <small>1</small>", "我的券", "我的授权记录", "隐私设置", "我的数据"):
        assert link in page, link


def test_my_vouchers_count_is_what_the_list_holds_and_says_how_many_can_be_used(app, customer, make_offer, clock):
    twice = make_offer(per_user_limit=2)
    codes = [claimed_code(customer.client, twice) for _ in range(2)] + [
        claimed_code(customer.client, make_offer(valid_days=3))]
    assert "我的券 <small>3</small>" in customer.client.get("/me").get_data(as_text=True)  # all usable
    with app.app_context():  # one of them used at a store
        from app.core.clock import db_now
        from app.core.pii import keyed_hash
        from app.vouchers.models import Store
        voucher = db.session.scalar(select(Voucher).where(Voucher.code_hash == keyed_hash(codes[0])))
        voucher.status, voucher.redeemed_at = "used", db_now()
        voucher.redeemed_store_id = db.session.scalar(select(Store.id).limit(1))
        db.session.commit()
    assert "我的券 <small>3（2 张可用）</small>" in customer.client.get("/me").get_data(as_text=True)
    clock.advance(days=4)  # the third one has expired
    assert "我的券 <small>3（1 张可用）</small>" in customer.client.get("/me").get_data(as_text=True)
    mine = customer.client.get("/me/vouchers").get_data(as_text=True)
    assert mine.count('<li class="voucher-') == 3
    assert (mine.count("voucher-unused"), mine.count("voucher-used"), mine.count("voucher-expired")) == (1, 1, 1)


def test_contact_data_is_checked_like_the_purchase_forms_and_kept_encrypted(app, customer):
    page = customer.client.get("/me").get_data(as_text=True)
    bad = customer.client.post("/me/contact", data={"csrf_token": token(page), "mobile": "12345", "email": "x@",
                                                   "province": "广东", "city": "", "district": "", "address": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请填写11位中国大陆手机号码" in html and "电子邮箱格式不正确" in html
    assert "请填写城市，或清空整个地址" in html and 'value="广东"' in html  # nothing typed is lost
    good = customer.client.post("/me/contact", data={
        "csrf_token": token(page), "mobile": "+86 139 0013 9000", "email": "zw@example.com", "province": "广东",
        "city": "深圳", "district": "南山区", "address": "科技园路1号A座"})
    assert good.status_code == 302
    page = customer.client.get("/me").get_data(as_text=True)
    assert "联系方式已保存" in page and 'value="13900139000"' in page and 'value="科技园路1号A座"' in page
    with app.app_context():
        raw = db.session.execute(db.text("SELECT mobile, email, address FROM user WHERE id = :id".replace(
            "user", '"user"')), {"id": customer.id}).one()
        assert "13900139000" not in "".join(raw) and "科技园路" not in "".join(raw)
    cleared = customer.client.post("/me/contact", data={"csrf_token": token(page), "mobile": "", "email": "",
                                                        "province": "", "city": "", "district": "", "address": ""})
    assert cleared.status_code == 302
    assert 'value="13900139000"' not in customer.client.get("/me").get_data(as_text=True)


def test_recent_logins_show_browser_system_and_a_masked_ip(app, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token, user="new", nickname="看登录记录的人")
    p.press(d.token, "confirm")
    d.poll()
    page = d.client.get("/me").get_data(as_text=True)
    assert "账户安全 · 最近登录" in page and "127.0.0.*" in page and "2026-11-25 10:00" in page


def test_personalisation_records_the_trail_and_recommends_from_it(app, customer):
    customer.client.get("/products/xiaotong-million-medical")
    customer.client.get("/products?q=重疾")
    rows = trail(app, customer.id)
    assert {row.kind for row in rows} == {"view", "search"} and len(rows) == 4  # 1 view + the first 3 found
    with app.app_context():
        from app.catalog.services import search_products
        first_three = {p.id for p in search_products(q="重疾", per_page=3).items}
    assert {row.product_id for row in rows if row.kind == "search"} == first_three  # what it found, not the words
    home = customer.client.get("/").get_data(as_text=True)
    block = home[home.index('id="recommended"'):]
    assert 'data-personal="yes"' in home and "为你推荐" in block and "根据你最近浏览的产品" in block


def test_switching_personalisation_off_deletes_the_trail_and_writes_nothing_after(app, customer):
    customer.client.get("/products/anxin-million-medical")
    assert len(trail(app, customer.id)) == 1
    response = switch(customer.client, "personalization", False, htmx=True)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="privacy-item" id="privacy-personalization"')  # the block only
    assert "已关闭个性化推荐，并删除了 1 条浏览记录" in html and 'aria-checked="false"' in html
    assert trail(app, customer.id) == []
    customer.client.get("/products/anxin-million-medical")
    customer.client.get("/products?q=医疗")
    assert trail(app, customer.id) == []  # nothing of the browsing is recorded any more
    home = customer.client.get("/").get_data(as_text=True)
    assert 'data-personal="no"' in home and "热门推荐" in home and "个性化推荐已关闭" in home
    with app.app_context():
        choice = db.session.scalar(select(PrivacyChoice).where(PrivacyChoice.user_id == customer.id))
        assert choice.setting == "personalization" and choice.enabled is False
    ledger = customer.client.get("/me/consents").get_data(as_text=True)
    assert "隐私设置变更" in ledger and "个性化推荐" in ledger and "关闭" in ledger
    switch(customer.client, "personalization", True)  # without JavaScript: a plain form
    customer.client.get("/products/anxin-million-medical")
    assert len(trail(app, customer.id)) == 1


def test_the_trail_keeps_no_query_text_and_is_pruned_after_90_days(app, customer, clock):
    customer.client.get("/products?q=张伟的体检报告 医疗")
    with app.app_context():
        columns = [c.name for c in BrowsingEvent.__table__.columns]
    assert columns == ["id", "user_id", "product_id", "kind", "at"]  # product ids and times only
    customer.client.get("/products/anxin-million-medical")
    clock.advance(days=91)
    customer.client.get("/products/kangning-e-medical")
    result = app.test_cli_runner().invoke(args=["trail", "prune"])
    assert result.exit_code == 0
    assert [row.product_id for row in trail(app, customer.id)] == [_product_id(app, "kangning-e-medical")]


def _product_id(app, slug):
    with app.app_context():
        return db.session.scalar(select(Product.id).where(Product.slug == slug))


def test_promotions_go_only_to_users_who_allow_them(app, wechat, member):
    from app.auth.simulator import SIM_APPID
    from app.core.clock import db_now
    users = []
    for nickname in ("要推广的人", "不要推广的人"):
        user = member(nickname=nickname)
        accept(user.client, user.client.get("/agreements/accept?next=/").get_data(as_text=True))
        with app.app_context():
            db.session.add(WeChatIdentity(user_id=user.id, appid=SIM_APPID, openid=f"o-promo-{user.id}",
                                          created_at=db_now()))
            db.session.commit()
        users.append(user)
    switch(users[1].client, "promotions", False)
    result = app.test_cli_runner().invoke(args=["promotions", "send", "双十二洗车券限时领取", "--url", "/offers"])
    assert result.exit_code == 0, result.output
    received = {m["touser"] for m in wechat.state.messages if m["data"]["first"]["value"] == "双十二洗车券限时领取"}
    assert f"o-promo-{users[0].id}" in received and f"o-promo-{users[1].id}" not in received


def test_my_data_has_everything_of_mine_and_nothing_of_anyone_else(app, customer, member, pay, make_offer):
    policy_number = paid_policy(customer.client, pay)
    Buyer(customer.client, "kanghu-lifetime-ci").through(2, plan="sa30")  # a breakpoint
    code = claimed_code(customer.client, make_offer())
    customer.client.get("/products/anxin-million-medical")
    switch(customer.client, "promotions", False)
    page = customer.client.get("/me").get_data(as_text=True)
    customer.client.post("/me/contact", data={"csrf_token": token(page), "mobile": "13900139000", "email": "",
                                              "province": "", "city": "", "district": "", "address": ""})
    with app.app_context():
        from app.core.clock import db_now
        from app.purchase import car_quotes
        user = db.session.get(User, customer.id)
        car_quotes.save(user, {"plate": "粤B12345", "owner_name": "张伟"}, db_now())
        db.session.add(LoginEvent(user_id=customer.id, at=db_now(), browser="Chrome 131", os="Windows 10",
                                  ip="127.0.0.*"))
        db.session.commit()
    other = member(nickname="别人的数据")
    accept(other.client, other.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date="1970-01-01")
    other_code = claimed_code(other.client, make_offer())
    response = customer.client.get("/me/data.json")
    assert response.mimetype == "application/json" and "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["nickname"] == "测试用户" and data["profile"]["id_number"] == ME  # decrypted, for the owner
    assert {p["number"] for p in data["policies"]} == {policy_number}
    assert data["policies"][0]["details"]["insured"]["id_number"] == ME
    assert len(data["orders"]) == 1 and data["orders"][0]["status"] == "issued"
    assert [a["status"] for a in data["applications"]].count("draft") == 1
    assert [v["code"] for v in data["vouchers"]] == [code]
    assert data["browsing_trail"] and data["consents"] and data["privacy"]["promotions"] is False
    assert data["privacy_choices"][0]["setting"] == "promotions"
    assert data["contact"]["mobile"] == "13900139000" and data["saved_car_quote"] == [
        {"plate": "粤B12345", "owner_name": "张伟"}]
    assert data["logins"] == [{"at": "2026-11-25 10:00:00", "browser": "Chrome 131", "os": "Windows 10",
                               "ip": "127.0.0.*"}]
    text = response.get_data(as_text=True)
    assert other_code not in text and "别人的数据" not in text and "1970" not in text


def test_deleting_the_account_needs_the_phone_of_this_very_wechat_user(app, desktop, phone, pay, make_offer):
    d = desktop()
    p = phone()
    p.authorize(d.token, user="new", nickname="要注销的人")
    p.press(d.token, "confirm")
    d.poll()
    client = d.client
    accept(client, client.get("/agreements/accept?next=/").get_data(as_text=True))
    policy_number = paid_policy(client, pay)
    code = claimed_code(client, make_offer())
    client.get("/products/anxin-million-medical")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.nickname == "要注销的人"))

    page = client.get("/me/data").get_data(as_text=True)
    assert "依法保留" in page and "保单、订单和支付记录" in page
    unticked = client.post("/me/data/delete", data={"csrf_token": token(page)})
    assert unticked.status_code == 422 and "请先勾选确认" in unticked.get_data(as_text=True)
    started = client.post("/me/data/delete", data={"csrf_token": token(page), "confirmed": "y"})
    html = started.get_data(as_text=True)
    assert "用手机确认注销" in html and 'class="qr-image"' in html
    poll_url = re.search(r'hx-get="(/me/data/delete/[^"]+/status)"', html).group(1)
    delete_token = bridge_token(app, client, poll_url, "qrd", "/me/data/delete")

    stranger = Phone(app, pages="/m/delete")
    response, refused = stranger.authorize(delete_token, user="new", nickname="路人甲")
    assert response.status_code == 409 and "请使用该账号绑定的微信扫码确认" in refused
    assert "等待扫码确认" in client.get(poll_url, headers=HX).get_data(as_text=True)  # not taken, not deleted

    owner = Phone(app, pages="/m/delete")
    _, phone_page = owner.authorize(delete_token, user="new", nickname="要注销的人")
    assert "确认注销微保账户" in phone_page and "要注销的人" in phone_page
    response, done = owner.press(delete_token, "confirm")
    assert "已确认注销" in done
    final = client.get(poll_url, headers=HX)
    assert final.headers["HX-Redirect"] == "/"
    assert client.get("/me").status_code == 302  # signed out, for good
    assert "你的账户已注销" in client.get("/").get_data(as_text=True)

    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.status == "deleted" and user.nickname == "已注销用户" and user.id_number is None
        assert db.session.scalar(select(func.count()).select_from(WeChatIdentity).where(
            WeChatIdentity.user_id == user_id)) == 0
        assert db.session.scalar(select(func.count()).select_from(BrowsingEvent).where(
            BrowsingEvent.user_id == user_id)) == 0
        assert db.session.scalar(select(func.count()).select_from(LoginEvent).where(
            LoginEvent.user_id == user_id)) == 0
        assert db.session.scalar(select(func.count()).select_from(Voucher).where(Voucher.user_id == user_id)) == 0
        assert db.session.scalar(select(Policy.status).where(Policy.number == policy_number)) == "active"  # kept
    assert code not in client.get("/").get_data(as_text=True)
    relogin_d, relogin_p = desktop(), phone()
    relogin_p.authorize(relogin_d.token, user="new", nickname="要注销的人")
    relogin_p.press(relogin_d.token, "confirm")
    relogin_d.poll()
    assert "我的保单 <small>0</small>" in relogin_d.client.get("/me").get_data(as_text=True)  # a new, empty account


