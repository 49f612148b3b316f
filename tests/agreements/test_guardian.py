"""A minor's acceptance approved by a guardian on their own phone (the QR bridge, fake WeChat)."""
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from app.agreements.models import GuardianConsent
from app.auth.models import User
from app.core.masking import mask_id_number
from app.core.pii import keyed_hash
from app.extensions import db
from tests.support.agreements import accept, rows, step_on
from tests.support.identity import ADULT_ID, APPLICANT, id_number
from tests.support.purchase import Buyer
from tests.support.web import HX
from tests.support.wechat import PHONE_UA, MinorDesktop, Phone, approve, guardian_opens


def test_the_guardian_approves_and_the_minor_continues(app, wechat, member, phone):
    m = member(nickname="小明同学")
    minor = MinorDesktop(app, m.client, "/me")
    assert "请让你的父母或其他监护人用" in minor.html and 'src="data:image/svg+xml;base64,' in minor.html
    assert "等待监护人扫码" in minor.poll()[1]

    g = phone()
    _, page = guardian_opens(g, minor.token)
    assert "小明同学" in page and "微保服务协议" in page and "个人信息授权协议" in page
    assert "等待监护人扫码" not in minor.poll()[1] and "已扫码" in minor.poll()[1]

    response, done = approve(g, minor.token)
    assert response.status_code == 200 and "已同意，请让孩子回到电脑上继续操作" in done
    response, _ = minor.poll()
    assert response.headers["HX-Redirect"] == "/me"
    assert step_on(m.client, "/me") is None

    with app.app_context():
        consent = db.session.scalar(select(GuardianConsent).where(GuardianConsent.minor_user_id == m.id))
        assert consent.guardian_name == "张建国" and consent.guardian_id_number == ADULT_ID
        assert consent.guardian_id_hash == keyed_hash(ADULT_ID) and consent.guardian_user_id != m.id
        stored = db.session.execute(text("SELECT guardian_name, guardian_id_number FROM guardian_consent "
                                         "WHERE id = :id"), {"id": consent.id}).one()
        assert "张建国" not in stored[0] and ADULT_ID not in stored[1]  # encrypted at rest
        minor_rows = rows(app, m.id)
        assert len(minor_rows) == 3 and {r.guardian_consent_id for r in minor_rows} == {consent.id}
        assert all(r.channel == "desktop" and r.ip == "127.0.0.1" for r in minor_rows)


@pytest.mark.parametrize("fields, message", [
    ({"name": "张"}, "请填写与身份证一致的姓名"),
    ({"name": "<script>alert(1)</script>"}, "请填写与身份证一致的姓名"),
    ({"name": "张\u202e建国"}, "含有无法识别的字符"),
    ({"name": ""}, "请填写监护人的真实姓名"),
    ({"number": "110101198003071235"}, "身份证号码无效"),
    ({"number": "12345"}, "身份证号码无效"),
    ({"number": id_number(date(2012, 1, 1))}, "监护人须年满18周岁"),
    ({"relationship": "friend"}, "请选择你与未成年人的关系"),
])
def test_the_guardians_details_are_checked_on_their_fields(app, wechat, member, phone, fields, message):
    m = member()
    minor = MinorDesktop(app, m.client)
    g = phone()
    guardian_opens(g, minor.token)
    response, page = approve(g, minor.token, **fields)
    assert response.status_code == 422 and message in page
    assert 'value="张建国"' in page or "name" in fields  # what was typed is kept
    assert rows(app, m.id) == []
    assert "已扫码" in minor.poll()[1]  # still waiting, nothing half-written
    with app.app_context():
        assert db.session.scalar(select(GuardianConsent).where(GuardianConsent.minor_user_id == m.id)) is None


def test_a_minor_who_scans_their_own_code_does_not_take_it_from_the_guardian(app, wechat, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token, user="li")
    p.press(d.token, "confirm")
    d.poll()  # the minor is signed in with WeChat user 李晓红
    minor = MinorDesktop(app, d.client)
    same_person = phone()
    response, page = guardian_opens(same_person, minor.token, user="li")
    assert response.status_code == 409 and "不能为自己确认" in page
    assert "等待监护人扫码" in minor.poll()[1]  # the code is still free

    guardian = phone()
    _, page = guardian_opens(guardian, minor.token)
    assert "李晓红" in page or "微保服务协议" in page
    response, done = approve(guardian, minor.token)
    assert response.status_code == 200 and "已同意" in done


def test_refusal_and_expiry_show_on_the_minors_page(app, wechat, member, phone, clock):
    m = member()
    minor = MinorDesktop(app, m.client)
    g = phone()
    guardian_opens(g, minor.token)
    response = g.client.post(f"/m/guardian/{minor.token}/refuse", data={"csrf_token": g.csrf})
    assert "你已拒绝本次请求" in response.get_data(as_text=True)
    _, status = minor.poll()
    assert "监护人已拒绝" in status and "重新发起" in status and "hx-trigger" not in status

    other = MinorDesktop(app, m.client)
    clock.advance(seconds=121)
    _, status = other.poll()
    assert "二维码已过期" in status
    late = phone()
    response = late.client.get(f"/m/guardian/{other.token}")
    assert "二维码已过期" in response.get_data(as_text=True)
    assert rows(app, m.id) == []


def test_every_wrong_field_is_named_at_once(app, wechat, member, phone):
    m = member()
    minor = MinorDesktop(app, m.client)
    g = phone()
    guardian_opens(g, minor.token)
    response, page = approve(g, minor.token, name="", number="123", relationship="")
    assert response.status_code == 422
    for message in ("请填写监护人的真实姓名", "身份证号码无效", "请选择你与未成年人的关系"):
        assert message in page


def test_a_guardian_code_never_logs_anyone_in(app, wechat, member, phone):
    m = member()
    minor = MinorDesktop(app, m.client)
    g = phone()
    assert g.client.get(f"/m/login/{minor.token}").status_code == 404  # not a login code
    guardian_opens(g, minor.token)
    approve(g, minor.token)
    # Polled as if it were a login: nothing (the minor's nonce cookie is not sent there either).
    response = m.client.get(f"/login/qr/{minor.public_id}/status", headers=HX)
    assert "二维码已失效" in response.get_data(as_text=True)


def test_masks():
    assert mask_id_number(ADULT_ID) == "110***********" + ADULT_ID[-4:]


def test_the_minors_ledger_shows_the_guardians_approval(app, wechat, member, phone):
    m = member()
    minor = MinorDesktop(app, m.client)
    g = phone()
    guardian_opens(g, minor.token)
    approve(g, minor.token)
    minor.poll()
    ledger = m.client.get("/me/consents").get_data(as_text=True)
    assert ledger.count("监护人已同意") == 3
    exported = m.client.get("/me/consents.json").get_json()["consents"]
    assert len(exported) == 3 and all(row["guardian_approved"] for row in exported)


def test_a_guardian_with_a_verified_identity_must_give_that_identity(app, wechat, member, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token, user="new", nickname="实名认证的家长")
    p.press(d.token, "confirm")
    d.poll()
    with app.app_context():
        parent = db.session.scalar(select(User).where(User.nickname == "实名认证的家长"))
        parent.real_name, parent.id_number, parent.id_hash = "王建国", ADULT_ID, keyed_hash(ADULT_ID)
        db.session.commit()
    m = member()
    minor = MinorDesktop(app, m.client)
    g = Phone(app, pages="/m/guardian")
    g.authorize(minor.token, user="new", nickname="实名认证的家长")

    response, page = approve(g, minor.token, name="王建国", number=id_number(date(1979, 1, 1)))
    assert response.status_code == 422 and "与你在本平台实名认证的身份证号码不一致" in page
    response, page = approve(g, minor.token, name="王建军", number=ADULT_ID)
    assert response.status_code == 422 and "与你在本平台实名认证的姓名不一致" in page
    assert rows(app, m.id) == [] and "已扫码" in minor.poll()[1]
    response, done = approve(g, minor.token, name="王建国", number=ADULT_ID)
    assert response.status_code == 200 and "已同意" in done


def test_a_declared_adult_whose_id_number_says_minor_must_ask_a_guardian(app, member):
    m = member()
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date="1990-05-01")
    assert step_on(m.client, "/") is None  # accepted alone, as the adult they said they were
    buyer = Buyer(m.client)
    buyer.through(1)
    response, page = buyer.post(2, **{**APPLICANT, "id_number": id_number(date(2010, 6, 1))})
    assert response.status_code == 422 and "投保人须年满18周岁" in page
    with app.app_context():
        user = db.session.get(User, m.id)
        assert user.birth_date == date(2010, 6, 1) and user.id_number is None  # corrected, not locked
    step = step_on(m.client, "/")
    assert step is not None  # the solo acceptances of a minor no longer count
    page = m.client.get(step).get_data(as_text=True)
    response = accept(m.client, page, birth_date=None)
    assert "请让你的父母或其他监护人用" in response.get_data(as_text=True)


def test_a_minor_on_a_phone_gets_a_link_to_send_to_their_guardian(app, wechat, member):
    m = member(user_agent=PHONE_UA)
    minor = MinorDesktop(app, m.client)
    assert "复制下面的链接发给监护人" in minor.html
    link = re.search(r'id="share-url" type="text" value="([^"]+)"', minor.html).group(1)
    assert urlsplit(link).path == f"/m/guardian/{minor.token}"  # the guardian opens it in their own WeChat
    desktop_minor = MinorDesktop(app, member().client)
    assert 'id="share-url"' not in desktop_minor.html  # a desktop shows the code to scan, nothing to copy
