"""合作商户 and 权益券活动 in the back office: who may open them (商户管理 for partners, stores and their staff
accounts, 运营 for offers), creating and editing with every refusal said on its field and nothing saved, money
typed in yuan kept as exact fen, an offer's stock changed while users claim it (no voucher lost, none oversold),
and the partner staff accounts: a password shown once, reset, lock and unlock, each ending the staff member's
sessions, each with its reason in the audit log."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.admin import access
from app.admin.audit import ACTIONS
from app.admin.models import AuditEvent
from app.admin.roles import ROLES, permissions_of
from app.agreements.models import Agreement
from app.core.clock import today_local
from app.extensions import db
from app.vouchers.models import Offer, Partner, PartnerStaff, Store, Voucher
from tests.support.admin import audit_rows, last_audit
from tests.support.admin_partners import new_offer
from tests.support.agreements import accepted_user
from tests.support.concurrency import at_once, http_session
from tests.support.vouchers import PASSWORD
from tests.support.web import field, token

ENDPOINTS = {  # endpoint: its method and path (the objects named in it filled in by the test)
    "admin.partner_list": ("GET", "/admin/partners"), "admin.partner_new": ("GET", "/admin/partners/new"),
    "admin.partner_create": ("POST", "/admin/partners/new"), "admin.partner_detail": ("GET", "/admin/partners/{partner}"),
    "admin.partner_update": ("POST", "/admin/partners/{partner}"),
    "admin.store_new": ("GET", "/admin/partners/{partner}/stores/new"),
    "admin.store_create": ("POST", "/admin/partners/{partner}/stores/new"),
    "admin.store_detail": ("GET", "/admin/stores/{store}"), "admin.store_update": ("POST", "/admin/stores/{store}"),
    "admin.partner_staff_create": ("POST", "/admin/stores/{store}/staff"),
    "admin.partner_staff_detail": ("GET", "/admin/partner-staff/{account}"),
    "admin.partner_staff_lock": ("POST", "/admin/partner-staff/{account}/lock"),
    "admin.partner_staff_unlock": ("POST", "/admin/partner-staff/{account}/unlock"),
    "admin.partner_staff_reset": ("POST", "/admin/partner-staff/{account}/reset"),
    "admin.offer_list": ("GET", "/admin/offers"), "admin.offer_new": ("GET", "/admin/offers/new"),
    "admin.offer_create": ("POST", "/admin/offers/new"), "admin.offer_detail": ("GET", "/admin/offers/{offer}"),
    "admin.offer_update": ("POST", "/admin/offers/{offer}"),
}
MY_ACTIONS = [action for action in ACTIONS if action.split(".")[0] in ("partner", "store", "offer", "partner_staff")]


def _one_time(response):
    return re.search(r'data-testid="one-time-password">([^<]+)<', response.get_data(as_text=True)).group(1)


def _count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _audit_count(app):
    return _count(app, AuditEvent)


def _partner_login(app, username, password):
    client = app.test_client()
    page = client.get("/partner/login").get_data(as_text=True)
    response = client.post("/partner/login", data={"csrf_token": token(page), "username": username,
                                                   "password": password})
    return client, response


OFFER = {"title": "后台新建的券", "service": "五座轿车洗车一次", "terms": "每人限领1张\n节假日可用", "price": "9.9",
         "settlement": "15.05", "stock_total": "200", "per_user_limit": "2", "valid_days": "30",
         "starts_on": "2026-11-25", "ends_on": "2026-12-31", "cities": "", "required_category": ""}


# Who may open what

def test_every_endpoint_here_is_listed_and_declares_its_permission(app):
    mine = {rule.endpoint: access.access_of(app.view_functions[rule.endpoint]) for rule in app.url_map.iter_rules()
            if rule.endpoint in ENDPOINTS or rule.rule.startswith(("/admin/partner", "/admin/stores", "/admin/offers"))}
    assert set(mine) == set(ENDPOINTS)
    assert all(declared == ("offers.edit",) for endpoint, declared in mine.items() if "offer" in endpoint)
    assert all(declared == ("partners.manage",) for endpoint, declared in mine.items() if "offer" not in endpoint)


@pytest.mark.parametrize("role", [*ROLES, "none"])
def test_each_role_without_the_permission_gets_403_and_nothing_changes(app, role, signed_in, partner_world,
                                                                       make_partner_staff):
    browser, _ = signed_in(*([] if role == "none" else [role]))
    granted = permissions_of([] if role == "none" else [role])
    account = make_partner_staff(partner_world.store_id)
    ids = {"partner": partner_world.id, "store": partner_world.store_id, "account": account.id,
           "offer": new_offer(app, partner_world.id)}
    csrf = token(browser.client.get("/admin/").get_data(as_text=True))
    allowed = []
    for endpoint, (method, path) in ENDPOINTS.items():
        declared = access.access_of(app.view_functions[endpoint])
        before = _audit_count(app)
        response = browser.client.open(path.format(**ids), method=method,
                                       data={"csrf_token": csrf, "lock-reason": "越权尝试", "reset-reason": "越权尝试"}
                                       if method == "POST" else None)
        if set(declared) <= granted:
            allowed.append(endpoint)
            assert response.status_code != 403 and response.status_code < 500, (role, endpoint, response.status_code)
        else:
            body = response.get_data(as_text=True)
            assert response.status_code == 403, (role, endpoint, response.status_code)
            assert "无权访问" in body and "你的角色没有此操作的权限" in body
            assert _audit_count(app) == before, (role, endpoint)
    expected = {"merchant": {e for e in ENDPOINTS if "offer" not in e}, "ops": {e for e in ENDPOINTS if "offer" in e}}
    assert set(allowed) == expected.get(role, set())


def test_the_navigation_shows_each_section_to_its_role(app, signed_in):
    for role, shown, hidden in (("merchant", "合作商户", "权益券活动"), ("ops", "权益券活动", "合作商户")):
        browser, _ = signed_in(role)
        page = browser.client.get("/admin/").get_data(as_text=True)
        nav = re.search(r'<nav class="admin-nav".*?</nav>', page, re.S).group(0)
        assert shown in nav and hidden not in nav


# Partners and stores

def test_a_partner_is_created_with_its_agreement_and_edited_with_its_audit_rows(app, signed_in):
    browser, staff = signed_in("merchant")
    response = browser.post("/admin/partners/new", {"slug": "Qingliang", "name": "清凉洗车", "kind": "carwash",
                                                    "description": "新签约的洗车商户"}, page="/admin/partners/new")
    assert response.status_code == 302
    page = browser.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存" in page and "清凉洗车" in page and "《清凉洗车用户服务协议》" in page
    with app.app_context():
        partner = db.session.scalar(select(Partner).where(Partner.slug == "qingliang"))
        agreement = db.session.scalar(select(Agreement).where(Agreement.kind == partner.agreement_kind))
        assert (agreement.scope, agreement.scope_ref, agreement.versions) == ("partner", "qingliang", [])
    row = last_audit(app, action="partner.created", object_id=str(partner.id))
    assert row.staff_id == staff.id and json.loads(row.after)["name"] == "清凉洗车"

    path = f"/admin/partners/{partner.id}"
    response = browser.post(path, {"name": "清凉汽车服务", "kind": "carwash", "description": "新签约的洗车商户",
                                   "agreement_kind": "partner-qingliang"}, page=path)
    assert response.status_code == 302
    row = last_audit(app, action="partner.updated", object_id=str(partner.id))
    assert (json.loads(row.before), json.loads(row.after)) == ({"name": "清凉洗车"}, {"name": "清凉汽车服务"})
    response = browser.post(path, {"name": "清凉汽车服务", "kind": "carwash", "description": "新签约的洗车商户",
                                   "agreement_kind": "partner-qingliang"}, page=path)
    assert "没有修改" in browser.client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(audit_rows(app, action="partner.updated", object_id=str(partner.id))) == 1

    response = browser.post(f"{path}/stores/new", {"name": "清凉·杭州西湖店", "city": "杭州", "address": "杭州市西湖区文三路1号",
                                                   "phone": "0571-88000001"}, page=path)
    assert response.status_code == 302
    store_path = response.headers["Location"]
    assert "清凉·杭州西湖店" in browser.client.get(path).get_data(as_text=True)
    response = browser.post(store_path, {"name": "清凉·杭州西湖店", "city": "杭州", "address": "杭州市西湖区文三路2号",
                                         "phone": "0571-88000001"}, page=path)
    assert response.status_code == 302
    with app.app_context():
        store = db.session.scalar(select(Store).where(Store.name == "清凉·杭州西湖店"))
        assert store.address == "杭州市西湖区文三路2号" and store.partner_id == partner.id
    row = last_audit(app, action="store.updated", object_id=str(store.id))
    assert json.loads(row.after) == {"address": "杭州市西湖区文三路2号"}
    assert last_audit(app, action="store.created", object_id=str(store.id)) is not None


@pytest.mark.parametrize("data, field_message", [
    ({"slug": "", "name": "甲商户", "kind": "carwash"}, "请填写商户代码"),
    ({"slug": "1abc", "name": "甲商户", "kind": "carwash"}, "商户代码为2–40位小写字母"),
    ({"slug": "jiechi", "name": "甲商户", "kind": "carwash"}, "该商户代码已被使用"),
    ({"slug": "jia-shanghu", "name": "", "kind": "carwash"}, "请填写商户名称"),
    ({"slug": "jia-shanghu", "name": "甲商户", "kind": "spa"}, "不是有效的选择"),
    ({"slug": "jia-shanghu", "name": "甲" * 61, "kind": "carwash"}, "60"),
])
def test_a_new_partner_with_bad_input_is_refused_on_its_field_and_not_saved(app, signed_in, data, field_message):
    browser, _ = signed_in("merchant")
    partners, rows = _count(app, Partner), _audit_count(app)
    response = browser.post("/admin/partners/new", data, page="/admin/partners/new")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = " ".join(re.findall(r'<p class="field-error" id="[^"]+">([^<]+)</p>', body))
    assert field_message in errors, errors
    assert _count(app, Partner) == partners and _audit_count(app) == rows


def test_a_store_with_bad_input_is_refused_on_its_fields_and_not_saved(app, signed_in, partner_world):
    browser, _ = signed_in("merchant")
    path = f"/admin/partners/{partner_world.id}/stores/new"
    stores, rows = _count(app, Store), _audit_count(app)
    response = browser.post(path, {"name": "", "city": "", "address": "某地", "phone": "打电话"}, page=path)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("请填写门店名称", "请填写门店所在城市", "请填写门店的公开电话"):
        assert message in body
    response = browser.post(path, {"name": "测试商户·北京店", "city": "北京", "address": "某地1号"}, page=path)
    assert response.status_code == 422 and "该商户已有同名门店" in response.get_data(as_text=True)
    assert _count(app, Store) == stores and _audit_count(app) == rows
    response = browser.post(f"/admin/stores/{partner_world.store_id}", {"name": "测试商户·北京店", "city": "北京",
                                                                        "address": ""}, page=path)
    assert response.status_code == 422 and "请填写门店地址" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Store, partner_world.store_id).address == "北京市朝阳区测试路1号"


def test_a_partners_agreement_is_one_of_its_own(app, signed_in, partner_world):
    browser, _ = signed_in("merchant")
    path = f"/admin/partners/{partner_world.id}"
    response = browser.post(path, {"name": "测试商户", "kind": "carwash", "agreement_kind": "partner-jiechi"}, page=path)
    assert response.status_code == 422 and "不是有效的选择" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Partner, partner_world.id).agreement_kind == "partner-hostile-partner"


# Offers

def test_an_offer_is_created_with_money_in_exact_fen_and_edited(app, signed_in, partner_world):
    browser, staff = signed_in("ops")
    page = browser.client.get("/admin/offers/new").get_data(as_text=True)
    assert "测试商户" in page and "持有有效的" in page
    response = browser.post("/admin/offers/new", {**OFFER, "partner": "jiechi", "price": "0.07", "settlement": "1,234.5",
                                                  "cities": "北京，上海 北京", "required_category": "auto"},
                            page="/admin/offers/new")
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    offer_id = int(response.headers["Location"].split("/")[-1].split("?")[0])
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert (offer.price_fen, offer.settlement_fen) == (7, 123450)
        assert (offer.stock_total, offer.stock_left, offer.per_user_limit) == (200, 200, 2)
        assert (offer.cities, offer.required_category, offer.kind) == ("北京、上海", "auto", "carwash")
        assert offer.ends_on - offer.starts_on == timedelta(days=36)
    page = browser.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="0.07"' in page and 'value="1234.50"' in page and "已保存" in page
    row = last_audit(app, action="offer.created", object_id=str(offer_id))
    assert row.staff_id == staff.id and json.loads(row.after)["settlement_fen"] == 123450

    path = f"/admin/offers/{offer_id}"
    response = browser.post(path, {**OFFER, "price": "19.90", "settlement": "1234.5", "cities": "上海",
                                   "required_category": "auto"}, page=path)
    assert response.status_code == 302
    row = last_audit(app, action="offer.updated", object_id=str(offer_id))
    assert json.loads(row.before) == {"price_fen": 7, "cities": "北京、上海"}
    assert json.loads(row.after) == {"price_fen": 1990, "cities": "上海"}


@pytest.mark.parametrize("changes, message", [
    ({"ends_on": "2026-11-24"}, "领取截止日期不能早于开始日期"),
    ({"price": "9.999"}, "金额最多精确到分"),
    ({"price": "九块九"}, "请填写金额"),
    ({"settlement": ""}, "请填写结算价"),
    ({"price": "100000.01"}, "到店价不能超过 100000 元"),
    ({"stock_total": "-1"}, "总数量为 0–1000000 张"),
    ({"per_user_limit": "0"}, "每人限领 1–100 张"),
    ({"starts_on": "2026-13-01"}, "请按 年-月-日 填写日期"),
    ({"cities": "北京、深圳"}, "洁驰洗车在深圳没有门店（现有门店所在城市：上海、北京）"),
    ({"required_category": "spa"}, "不是有效的选择"),
    ({"title": ""}, "请填写活动标题"),
    ({"partner": ""}, "请选择合作商户"),
])
def test_an_offer_with_bad_input_is_refused_on_its_field_and_not_saved(app, signed_in, changes, message):
    browser, _ = signed_in("ops")
    offers, rows = _count(app, Offer), _audit_count(app)
    response = browser.post("/admin/offers/new", {**OFFER, "partner": "jiechi", **changes}, page="/admin/offers/new")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    name = next(iter(changes))
    error = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', body).group(1)
    assert message in error, error
    assert f'id="{name}" ' in body and 'aria-invalid="true"' in body
    assert _count(app, Offer) == offers and _audit_count(app) == rows


def test_an_edit_with_bad_input_changes_nothing(app, signed_in, partner_world):
    browser, _ = signed_in("ops")
    offer_id = new_offer(app, partner_world.id, stock_total=10, stock_left=4)
    path = f"/admin/offers/{offer_id}"
    rows = _audit_count(app)
    response = browser.post(path, {**OFFER, "title": "改过的标题", "stock_total": "5"}, page=path)
    assert response.status_code == 422 and "已领取 6 张，总数量不能少于 6" in response.get_data(as_text=True)
    response = browser.post(path, {**OFFER, "title": "改过的标题", "cities": "上海"}, page=path)
    assert response.status_code == 422 and "测试商户在上海没有门店" in response.get_data(as_text=True)
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert (offer.title, offer.stock_total, offer.stock_left, offer.cities) == ("后台测试券", 10, 4, "")
    assert _audit_count(app) == rows


def test_raising_and_lowering_the_stock_keeps_what_was_claimed(app, signed_in, partner_world):
    browser, _ = signed_in("ops")
    offer_id = new_offer(app, partner_world.id, stock_total=10, stock_left=4)
    path = f"/admin/offers/{offer_id}"
    assert browser.post(path, {**OFFER, "stock_total": "25"}, page=path).status_code == 302
    with app.app_context():
        assert (db.session.get(Offer, offer_id).stock_total, db.session.get(Offer, offer_id).stock_left) == (25, 19)
    assert browser.post(path, {**OFFER, "stock_total": "6"}, page=path).status_code == 302
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert (offer.stock_total, offer.stock_left) == (6, 0)
    row = last_audit(app, action="offer.updated", object_id=str(offer_id))
    assert json.loads(row.after)["stock_total"] == 6 and json.loads(row.after)["stock_left"] == 0


def _admin_session(browser):
    """A requests session carrying the signed-in staff member's cookie, for real concurrent HTTP."""
    session = http_session(browser.client)
    cookie = browser.client.get_cookie("admin_session", path="/admin")
    session.cookies.set("admin_session", cookie.value, domain="127.0.0.1", path="/admin")
    return session


@pytest.mark.parametrize("stock, new_total", [(12, 30), (30, 8)], ids=["raised", "lowered"])
def test_the_stock_changed_while_users_claim_neither_loses_nor_oversells(app, live_server, member, signed_in,
                                                                         make_offer, stock, new_total):
    """Twenty users claim at the moment an operator saves a new total: whichever lands first, what was claimed
    is what the stock says (total − left = vouchers), never below zero nor past the total."""
    browser, _ = signed_in("ops")
    offer_id = make_offer("lanjing", stock_total=stock, stock_left=stock)
    users = [accepted_user(member, nickname=f"改库存时领券{i}") for i in range(20)]
    forms = []
    for user in users:
        page = user.client.get(f"/offers/{offer_id}").get_data(as_text=True)
        forms.append({"csrf_token": token(page), "submission": field(page, "submission"),
                      "agreement_version": field(page, "agreement_version"), "agreement": "y"})
    sessions = [http_session(user.client) for user in users]
    path = f"/admin/offers/{offer_id}"
    with app.app_context():
        today = today_local()
    admin_form = {**OFFER, "title": "测试洗车券", "service": "洗车一次", "terms": "", "price": "0", "settlement": "25",
                  "stock_total": str(new_total), "per_user_limit": "1", "starts_on": today.isoformat(),
                  "ends_on": (today + timedelta(days=30)).isoformat(),
                  "csrf_token": token(browser.client.get(path).get_data(as_text=True))}
    admin = _admin_session(browser)

    def work(i):
        if i == len(users):
            return admin.post(f"{live_server}{path}", data=admin_form, allow_redirects=False, timeout=60)
        return sessions[i].post(f"{live_server}/offers/{offer_id}/claim", data=forms[i], allow_redirects=False,
                                timeout=60)
    answers = at_once(len(users) + 1, work)
    claims, saved = answers[:-1], answers[-1]
    assert saved.status_code in (302, 422), saved.status_code
    got = sum(a.status_code == 302 for a in claims)
    assert all(a.status_code == 302 or "已领完" in a.text for a in claims)
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        vouchers = db.session.scalar(select(func.count()).select_from(Voucher).where(Voucher.offer_id == offer_id))
        assert vouchers == got == offer.stock_total - offer.stock_left
        assert 0 <= offer.stock_left and vouchers <= offer.stock_total
        if saved.status_code == 302:
            assert offer.stock_total == new_total
        else:  # lowered below what was claimed by then: said, and the stock kept
            assert "总数量不能少于" in saved.text and offer.stock_total == stock
    if new_total > stock:
        assert saved.status_code == 302 and got >= stock


# Partner staff accounts

def test_a_new_staff_account_gets_a_password_shown_once_that_signs_in(app, signed_in, partner_world):
    browser, staff = signed_in("merchant")
    path = f"/admin/stores/{partner_world.store_id}"
    response = browser.post(f"{path}/staff", {"username": "Xin.Dianyuan", "display_name": "新店员"}, page=path)
    assert response.status_code == 200
    password = _one_time(response)
    with app.app_context():
        account = db.session.scalar(select(PartnerStaff).where(PartnerStaff.username == "xin.dianyuan"))
        assert password not in account.password_hash and account.store_id == partner_world.store_id
    assert password not in browser.client.get(path).get_data(as_text=True)
    assert password not in browser.client.get(f"/admin/partner-staff/{account.id}").get_data(as_text=True)
    _, response = _partner_login(app, "xin.dianyuan", password)
    assert response.status_code == 302
    row = last_audit(app, action="partner_staff.created", object_id=str(account.id))
    assert row.staff_id == staff.id and password not in row.after + row.before
    response = browser.post(f"{path}/staff", {"username": "xin.dianyuan", "display_name": "另一位"}, page=path)
    assert response.status_code == 422 and "该用户名已被使用" in response.get_data(as_text=True)
    response = browser.post(f"{path}/staff", {"username": "ab", "display_name": ""}, page=path)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "用户名为3–40位小写字母" in body and "请填写店员姓名" in body


def test_a_reset_ends_every_session_and_only_the_new_password_signs_in(app, signed_in, partner_world,
                                                                        make_partner_staff):
    browser, staff = signed_in("merchant")
    account = make_partner_staff(partner_world.store_id)
    them, _ = _partner_login(app, account.username, PASSWORD)
    assert them.get("/partner/redeem").status_code == 200
    path = f"/admin/partner-staff/{account.id}"
    response = browser.post(f"{path}/reset", {"reset-reason": ""}, page=path)
    assert response.status_code == 422 and "请填写原因" in response.get_data(as_text=True)
    assert them.get("/partner/redeem").status_code == 200  # nothing done
    response = browser.post(f"{path}/reset", {"reset-reason": "店员忘记密码"}, page=path)
    password = _one_time(response)
    assert them.get("/partner/redeem").status_code == 302  # signed out everywhere
    assert _partner_login(app, account.username, PASSWORD)[1].status_code == 422
    assert _partner_login(app, account.username, password)[1].status_code == 302
    row = last_audit(app, action="partner_staff.password_reset", object_id=str(account.id))
    assert row.reason == "店员忘记密码" and row.staff_id == staff.id and password not in row.after


def test_lock_ends_the_sessions_and_unlock_lets_the_staff_member_back(app, signed_in, partner_world,
                                                                       make_partner_staff):
    browser, _ = signed_in("merchant")
    account = make_partner_staff(partner_world.store_id)
    them, _ = _partner_login(app, account.username, PASSWORD)
    path = f"/admin/partner-staff/{account.id}"
    assert browser.post(f"{path}/lock", {"lock-reason": "离职"}, page=path).status_code == 302
    assert them.get("/partner/redeem").status_code == 302
    assert _partner_login(app, account.username, PASSWORD)[1].status_code == 422
    page = browser.client.get(path).get_data(as_text=True)
    assert "已锁定" in page and "离职" in page
    response = browser.post(f"{path}/lock", {"lock-reason": "再锁一次"}, page=path)
    assert response.status_code == 409 and "该账号已处于锁定状态" in response.get_data(as_text=True)
    assert browser.post(f"{path}/unlock", {"lock-reason": "返岗"}, page=path).status_code == 302
    assert them.get("/partner/redeem").status_code == 302  # the old session stays ended
    assert _partner_login(app, account.username, PASSWORD)[1].status_code == 302
    locked = last_audit(app, action="partner_staff.locked", object_id=str(account.id))
    unlocked = last_audit(app, action="partner_staff.unlocked", object_id=str(account.id))
    assert (locked.reason, json.loads(locked.after)) == ("离职", {"locked": True})
    assert (unlocked.reason, json.loads(unlocked.after)["locked"]) == ("返岗", False)


def test_unlock_lifts_a_lockout_after_wrong_passwords(app, signed_in, partner_world, make_partner_staff):
    browser, _ = signed_in("merchant")
    account = make_partner_staff(partner_world.store_id)
    for _ in range(5):
        _partner_login(app, account.username, "wrong password")
    path = f"/admin/partner-staff/{account.id}"
    assert "输错锁定中" in browser.client.get(path).get_data(as_text=True)
    assert _partner_login(app, account.username, PASSWORD)[1].status_code == 422
    assert browser.post(f"{path}/unlock", {"lock-reason": "本人来电确认"}, page=path).status_code == 302
    assert _partner_login(app, account.username, PASSWORD)[1].status_code == 302


def test_every_action_here_writes_its_row_without_a_password(app, signed_in, partner_world, make_partner_staff):
    """One pass through the screens: each action registered here has its row, by its actor, with the IP."""
    browser, staff = signed_in("merchant", "ops")
    browser.client.environ_base["REMOTE_ADDR"] = "198.51.100.41"
    start = max([row.id for row in audit_rows(app)] or [0])
    browser.post("/admin/partners/new", {"slug": "audit-pass", "name": "审计商户", "kind": "dental"}, page="/admin/partners/new")
    with app.app_context():
        partner_id = db.session.scalar(select(Partner.id).where(Partner.slug == "audit-pass"))
    browser.post(f"/admin/partners/{partner_id}", {"name": "审计商户二", "kind": "dental",
                                                   "agreement_kind": "partner-audit-pass"}, page="/admin/partners")
    store = browser.post(f"/admin/partners/{partner_id}/stores/new", {"name": "审计门店", "city": "西安",
                                                                     "address": "西安市雁塔区1号"}, page="/admin/partners")
    store_path = store.headers["Location"].split("?")[0]
    browser.post(store_path, {"name": "审计门店", "city": "西安", "address": "西安市雁塔区2号"}, page=store_path)
    created = browser.post(f"{store_path}/staff", {"username": "audit-pass-staff", "display_name": "审计店员"},
                           page=store_path)
    passwords = [_one_time(created)]
    with app.app_context():
        account_id = db.session.scalar(select(PartnerStaff.id).where(PartnerStaff.username == "audit-pass-staff"))
    path = f"/admin/partner-staff/{account_id}"
    passwords.append(_one_time(browser.post(f"{path}/reset", {"reset-reason": "例行"}, page=path)))
    browser.post(f"{path}/lock", {"lock-reason": "例行"}, page=path)
    browser.post(f"{path}/unlock", {"lock-reason": "例行"}, page=path)
    offer = browser.post("/admin/offers/new", {**OFFER, "partner": "audit-pass", "cities": "西安"}, page="/admin/offers/new")
    offer_path = offer.headers["Location"].split("?")[0]
    browser.post(offer_path, {**OFFER, "stock_total": "300"}, page=offer_path)
    rows = [row for row in audit_rows(app) if row.id > start]
    assert {row.action for row in rows} >= set(MY_ACTIONS), set(MY_ACTIONS) - {row.action for row in rows}
    for row in rows:
        assert row.staff_id == staff.id and row.ip == "198.51.100.41" and row.roles == "merchant,ops"
        assert not any(p in row.before + row.after + row.reason for p in passwords)
    admin, _ = signed_in("admin")  # the log names them in Chinese
    audit_page = admin.client.get("/admin/audit?object_type=partner_staff").get_data(as_text=True)
    assert "商户员工账号" in audit_page and "重置商户员工密码" in audit_page
