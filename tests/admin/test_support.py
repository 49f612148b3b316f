"""Support lookups: a user found by nickname, order, policy, application or voucher number, and by the last four
digits of a mobile number with their real name (through the keyed-hash index, kept up to date wherever a mobile
is saved); their timeline with personal data masked; one value shown in full only by a POST with a reason,
recorded without the value."""
import json
import re

import pytest
from sqlalchemy import select

from app.account import services as account_services
from app.admin.mobile_index import last4_hash
from app.admin.models import UserMobileIndex
from app.auth.models import LoginEvent, User
from app.core.clock import db_now
from app.extensions import db
from tests.support.admin import audit_rows

_serial = [0]


def _person(app, member, *, mobile, name, nickname=None):
    _serial[0] += 1
    m = member(nickname=nickname or f"查询测试{_serial[0]}")
    with app.app_context():
        user = db.session.get(User, m.id)
        user.real_name, user.id_number = name, "11010119900307" + f"{_serial[0] % 1000:03d}" + "4"
        account_services.save_contact(user, mobile=mobile, email=f"user{_serial[0]}@example.com", province="",
                                      city="", district="", detail="")
        db.session.add(LoginEvent(user_id=user.id, at=db_now(), browser="Chrome 120", os="Windows 10", ip="203.0.113.*"))
        db.session.commit()
    return m


def _found(page):
    return [int(n) for n in re.findall(r'href="/admin/users/(\d+)"', page)]


def _index(app, user_id):
    with app.app_context():
        return {row.source: row.last4_hash for row in db.session.scalars(
            select(UserMobileIndex).where(UserMobileIndex.user_id == user_id))}


def test_mobile_last4_and_name_find_the_user_and_only_them(app, member, signed_in):
    zhang = _person(app, member, mobile="13600001357", name="张查询")
    namesake = _person(app, member, mobile="13600002468", name="张查询")  # same name, other number
    same_digits = _person(app, member, mobile="18800001357", name="王查询")  # same last four, other name
    support, staff = signed_in("support")
    page = support.client.get("/admin/users?last4=1357&name=张查询").get_data(as_text=True)
    assert _found(page) == [zhang.id]
    assert "136****1357" in page and "张*询" in page and "13600001357" not in page
    assert namesake.id not in _found(page) and same_digits.id not in _found(page)
    page = support.client.get("/admin/users?last4=1357&name=王查询").get_data(as_text=True)
    assert _found(page) == [same_digits.id]
    assert 'data-testid="no-users"' in support.client.get("/admin/users?last4=9999&name=张查询").get_data(as_text=True)
    event = audit_rows(app, action="user.search", staff_id=staff.id)[0]
    assert json.loads(event.after) == {"by": "mobile", "found": 1} and "张查询" not in event.after + event.before


def test_the_mobile_search_says_what_it_needs(app, signed_in):
    support, _ = signed_in("support")
    response = support.client.get("/admin/users?last4=12&name=张三")
    assert response.status_code == 422 and "请输入手机号码的后4位数字" in response.get_data(as_text=True)
    response = support.client.get("/admin/users?last4=1234", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and "请同时填写用户的真实姓名" in body
    assert "HX-Request" in response.headers["Vary"]


def test_the_index_follows_the_contact_number_and_a_deleted_account(app, member):
    m = _person(app, member, mobile="13911112222", name="李索引")
    assert _index(app, m.id) == {"contact": _hash(app, "2222")}
    with app.app_context():
        user = db.session.get(User, m.id)
        account_services.save_contact(user, mobile="+86 139-1111-3333", email="", province="", city="", district="",
                                      detail="")
        db.session.commit()
    assert _index(app, m.id) == {"contact": _hash(app, "3333")}
    with app.app_context():
        user = db.session.get(User, m.id)
        account_services.save_contact(user, mobile="", email="", province="", city="", district="", detail="")
        db.session.commit()
    assert _index(app, m.id) == {}
    with app.app_context():
        user = db.session.get(User, m.id)
        user.mobile = "13911114444"
        db.session.commit()
        account_services.delete_account(db.session.get(User, m.id), db_now())
        db.session.commit()
    assert _index(app, m.id) == {}


def _hash(app, digits):
    with app.test_request_context():
        return last4_hash(digits)


def test_an_applicants_mobile_is_indexed_too(app, member, business, signed_in):
    """The applicant of an application is the user (applications.save_applicant): the number given there finds
    them, with the real name it locked."""
    m = member()
    business(m.id, mobile="15012348642", name="周申请")
    assert _index(app, m.id) == {"applicant": _hash(app, "8642")}
    support, _ = signed_in("support")
    page = support.client.get("/admin/users?last4=8642&name=周申请").get_data(as_text=True)
    assert _found(page) == [m.id] and "150****8642" in page and "周*请" in page


def test_by_nickname_order_policy_application_and_voucher(app, member, business, signed_in):
    m = member(nickname="独一无二的昵称_%")
    made = business(m.id)
    noise = member(nickname="另一个昵称")
    business(noise.id)
    support, staff = signed_in("support")
    code = made.voucher
    for kind, query in (("nickname", "一无二的昵称_%"), ("order", made.order), ("order", made.order.lower()),
                        ("policy", made.policy), ("application", made.application), ("voucher", code.lower()),
                        ("voucher", " ".join(code[i:i + 4] for i in range(0, len(code), 4)))):
        page = support.client.get("/admin/users", query_string={"kind": kind, "q": query}).get_data(as_text=True)
        assert _found(page) == [m.id], (kind, query)
    for kind, query in (("nickname", "%"), ("nickname", "_")):  # wildcards are taken literally
        page = support.client.get("/admin/users", query_string={"kind": kind, "q": query}).get_data(as_text=True)
        assert m.id in _found(page) and noise.id not in _found(page), (kind, query)
    for kind, query in (("nickname", "没有这个昵称"), ("order", "DD000"), ("policy", made.order), ("voucher", "NOPE")):
        page = support.client.get("/admin/users", query_string={"kind": kind, "q": query}).get_data(as_text=True)
        assert _found(page) == [] and 'data-testid="no-users"' in page, (kind, query)

    page = support.client.get(f"/admin/users/{m.id}").get_data(as_text=True)
    for shown in (made.order, made.policy, made.application, "投保单", "订单", "保单", "权益券", "保障中", "356.00元"):
        assert shown in page, shown
    assert code not in page and code[:4] + "*" in page  # a voucher code is a bearer credential
    assert made.id_number not in page
    viewed = audit_rows(app, action="user.viewed", staff_id=staff.id)
    assert [row.object_id for row in viewed] == [str(m.id)]


def test_the_profile_shows_masks_and_nothing_in_full(app, member, signed_in):
    m = _person(app, member, mobile="13722223333", name="欧阳查询")
    support, _ = signed_in("support")
    page = support.client.get(f"/admin/users/{m.id}").get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, m.id)
        whole = (user.mobile, user.real_name, user.id_number, user.email)
    for value in whole:
        assert value not in page
    assert "137****3333" in page and "欧**询" in page and "110***********" in page and "u*" in page
    assert "203.0.113.*" in page  # the logins, as the user's own page shows them


def test_revealing_a_value_needs_a_reason_and_is_logged_without_the_value(app, member, signed_in):
    m = _person(app, member, mobile="13755556666", name="钱查询")
    support, staff = signed_in("support")
    page = f"/admin/users/{m.id}"
    response = support.post(f"{page}/reveal", {"field": "mobile", "reason": ""}, page=page)
    assert response.status_code == 422 and "请填写查看原因" in response.get_data(as_text=True)
    assert "13755556666" not in response.get_data(as_text=True)
    assert not audit_rows(app, action="pii.revealed", staff_id=staff.id)
    response = support.post(f"{page}/reveal", {"field": "mobile", "reason": "用户来电核对预留手机号"}, page=page,
                            headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="profile"' in body
    assert '<strong data-testid="revealed">13755556666</strong>' in body
    assert "钱查询" not in body  # only the value asked for
    row = audit_rows(app, action="pii.revealed", staff_id=staff.id)[-1]
    assert (row.object_type, row.object_id, row.reason) == ("user", str(m.id), "用户来电核对预留手机号")
    assert json.loads(row.after) == {"field": "mobile"} and "13755556666" not in row.after + row.before
    assert row.roles == "support"
    assert "13755556666" not in support.client.get(page).get_data(as_text=True)  # shown once, masked again


def test_a_value_we_do_not_hold_cannot_be_revealed(app, member, signed_in):
    m = member()
    support, staff = signed_in("support")
    page = f"/admin/users/{m.id}"
    assert "/reveal" not in support.client.get(page).get_data(as_text=True)  # nothing held: no form
    response = support.post(f"{page}/reveal", {"field": "id_number", "reason": "核对身份证号码"}, page=page)
    assert response.status_code == 422 and "该用户没有留存身份证号码" in response.get_data(as_text=True)
    assert not audit_rows(app, action="pii.revealed", staff_id=staff.id)


def test_claims_looks_up_but_cannot_reveal(app, member, signed_in):
    m = _person(app, member, mobile="13788889999", name="孙查询")
    claims, _ = signed_in("claims")
    page = claims.client.get(f"/admin/users/{m.id}").get_data(as_text=True)
    assert "137****9999" in page and "/reveal" not in page
    assert claims.post(f"/admin/users/{m.id}/reveal", {"field": "mobile", "reason": "理赔核对"},
                       page=f"/admin/users/{m.id}").status_code == 403


@pytest.mark.parametrize("path", ["/admin/users/999999", "/admin/users/99999999999"])
def test_an_unknown_user_is_a_404(app, signed_in, path):
    support, _ = signed_in("support")
    assert support.client.get(path).status_code == 404


def test_lookups_are_rate_limited_per_staff_member(app, signed_in, monkeypatch):
    support, _ = signed_in("support")
    monkeypatch.setitem(app.config, "RATELIMIT_ADMIN_LOOKUP", "3 per minute")
    answers = [support.client.get("/admin/users?kind=order&q=DD1").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    other, _ = signed_in("support")
    assert other.client.get("/admin/users?kind=order&q=DD1").status_code == 200  # counted per staff member
