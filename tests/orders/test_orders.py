"""Orders over HTTP: confirm → order → pay page → paid (notification or query) → policy; expiry,
breakpoints, someone else's numbers."""
import json
import re

from sqlalchemy import func, select, text

from app.extensions import db
from app.orders.models import Order, Policy
from app.purchase.models import Application
from tests.support.agreements import accept
from tests.support.identity import ME
from tests.support.pay import order_row, paid_policy, place_order
from tests.support.purchase import Buyer
from tests.support.web import HX, csrf_token, token


def application_of(app, order):
    with app.app_context():
        application = db.session.get(Application, order.application_id)
        db.session.expunge_all()
        return application


def test_confirming_twice_with_the_same_key_or_from_a_second_tab_gives_one_order(app, customer):
    buyer = Buyer(customer.client)
    buyer.through(5)
    _, first_tab = buyer.page(6)
    _, second_tab = buyer.page(6)
    keys = [re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
            for page in (first_tab, second_tab)]
    assert keys[0] != keys[1]
    answers = [buyer.client.post(f"/buy/{buyer.slug}/{buyer.number}/6", data={
        "csrf_token": token(first_tab), "acknowledged": "y", "idempotency_key": key})
        for key in (keys[0], keys[0], keys[1])]
    locations = {answer.headers["Location"] for answer in answers}
    assert len(locations) == 1 and re.fullmatch(r"/orders/DD\d{18}/pay", locations.pop())
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.number == buyer.number))
        assert db.session.scalar(select(func.count()).select_from(Order).where(
            Order.application_id == application.id)) == 1


def test_the_amount_comes_from_the_rate_table_not_the_request(app, customer):
    buyer = Buyer(customer.client)
    buyer.through(5)
    _, page = buyer.page(6)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    answer = buyer.client.post(f"/buy/{buyer.slug}/{buyer.number}/6", data={
        "csrf_token": token(page), "acknowledged": "y", "idempotency_key": key,
        "amount": "1", "amount_fen": "1", "premium_fen": "1"})
    number = answer.headers["Location"].split("/")[2]
    assert order_row(app, number).amount_fen == 29000  # 36 周岁, 男, 有社保: the table's row


def test_order_numbers_are_readable_and_not_sequential(app, customer):
    numbers = [place_order(customer.client, slug) for slug in ("anxin-million-medical", "kangning-e-medical")]
    for number in numbers:
        assert re.fullmatch(r"DD20261125\d{10}", number)
    assert abs(int(numbers[0][10:]) - int(numbers[1][10:])) > 1


def test_the_pay_page_shows_the_amount_product_and_a_qr_of_the_transaction(app, customer, pay):
    number = place_order(customer.client)
    page = customer.client.get(f"/orders/{number}/pay").get_data(as_text=True)
    assert "¥290.00" in page and "安心百万医疗2026" in page and number in page
    assert 'class="qr-image" src="data:image/svg+xml;base64,' in page and "请使用微信扫一扫付款" in page
    assert f'hx-get="/orders/{number}/status" hx-trigger="every 2s"' in page
    assert "我已支付" in page  # the check without JavaScript
    trade = pay.state.transaction(number)
    assert trade["amount"]["total"] == 29000 and trade["notify_url"].endswith("/pay/wechat/notify")
    assert order_row(app, number).code_url == trade["code_url"]


def test_paying_issues_the_policy_and_the_poll_goes_there(app, customer, pay):
    number = place_order(customer.client)
    customer.client.get(f"/orders/{number}/pay")
    poll = customer.client.get(f"/orders/{number}/status", headers=HX)
    assert "等待支付" in poll.get_data(as_text=True) and "HX-Redirect" not in poll.headers
    assert pay.state.pay(number)
    assert pay.state.deliveries[-1]["status"] == 204  # acknowledged
    poll = customer.client.get(f"/orders/{number}/status", headers=HX)
    assert re.fullmatch(r"/policies/P20261125\d{10}", poll.headers["HX-Redirect"])
    order = order_row(app, number)
    assert order.status == "issued" and order.paid_at and order.transaction_id.startswith("4200")


def test_a_lost_notification_is_made_up_by_querying_after_a_while(app, customer, pay, clock, monkeypatch):
    number = place_order(customer.client)
    customer.client.get(f"/orders/{number}/pay")
    monkeypatch.setitem(pay.state.transaction(number), "notify_url", "http://127.0.0.1:9/lost")
    pay.state.pay(number)  # paid, but the notification never arrives
    assert "HX-Redirect" not in customer.client.get(f"/orders/{number}/status", headers=HX).headers
    clock.advance(seconds=11)  # the poll now asks WeChat Pay itself
    poll = customer.client.get(f"/orders/{number}/status", headers=HX)
    assert poll.headers["HX-Redirect"].startswith("/policies/P")


def test_without_javascript_i_have_paid_asks_wechat_pay(app, customer, pay, monkeypatch):
    number = place_order(customer.client)
    customer.client.get(f"/orders/{number}/pay")
    check = customer.client.post(f"/orders/{number}/check", data={"csrf_token": csrf_token(customer.client)})
    assert check.headers["Location"] == f"/orders/{number}/pay"
    assert "暂未收到支付结果" in customer.client.get(check.headers["Location"]).get_data(as_text=True)
    monkeypatch.setitem(pay.state.transaction(number), "notify_url", "http://127.0.0.1:9/lost")
    pay.state.pay(number)
    check = customer.client.post(f"/orders/{number}/check", data={"csrf_token": csrf_token(customer.client)})
    assert check.headers["Location"].startswith("/policies/P")


def test_an_unpaid_order_closes_after_30_minutes_and_the_application_can_be_confirmed_again(
        app, customer, pay, clock):
    number = place_order(customer.client)
    customer.client.get(f"/orders/{number}/pay")
    clock.advance(minutes=29)
    assert customer.client.get(f"/orders/{number}/pay").status_code == 200
    clock.advance(minutes=1)
    page = customer.client.get(f"/orders/{number}", follow_redirects=True).get_data(as_text=True)
    assert "订单已关闭" in page and "未扣款" in page
    assert pay.state.transaction(number)["trade_state"] == "CLOSED"  # it can no longer be paid
    assert not pay.state.pay(number)
    order = order_row(app, number)
    assert order.status == "closed"
    application = application_of(app, order)
    assert application.status == "draft" and application.details["applicant"]["id_number"] == ME
    again = customer.client.get("/buy/anxin-million-medical")
    assert again.headers["Location"].endswith(f"/{application.number}/6")  # back at 确认, nothing lost
    poll = customer.client.get(f"/orders/{number}/status", headers=HX).get_data(as_text=True)
    assert "订单已关闭" in poll and "hx-trigger" not in poll  # the poll stops


def test_deleting_the_application_of_a_closed_order_keeps_the_order(app, customer, pay, clock):
    number = place_order(customer.client)
    clock.advance(minutes=31)
    customer.client.get(f"/orders/{number}")
    application = application_of(app, order_row(app, number))
    page = customer.client.get("/me/applications").get_data(as_text=True)
    deleted = customer.client.post(f"/buy/anxin-million-medical/{application.number}/delete",
                                   data={"csrf_token": token(page)})
    assert deleted.status_code == 302
    assert order_row(app, number).application_id is None
    assert "订单已关闭" in customer.client.get(f"/orders/{number}").get_data(as_text=True)


def test_the_close_command_closes_what_nobody_looks_at(app, customer, pay, clock):
    number = place_order(customer.client)
    clock.advance(minutes=31)
    result = app.test_cli_runner().invoke(args=["orders", "close-expired"])
    assert result.exit_code == 0 and "Closed" in result.output
    assert order_row(app, number).status == "closed"


def test_a_payment_just_before_closing_wins(app, customer, pay, clock, monkeypatch):
    number = place_order(customer.client)
    customer.client.get(f"/orders/{number}/pay")
    monkeypatch.setitem(pay.state.transaction(number), "notify_url", "http://127.0.0.1:9/lost")
    clock.advance(minutes=29, seconds=59)
    pay.state.pay(number)
    clock.advance(minutes=5)
    page = customer.client.get(f"/orders/{number}").get_data(as_text=True)
    assert "订单已出单" in page and order_row(app, number).status == "issued"


def test_the_breakpoint_stays_while_unpaid_and_is_cleared_once_paid(app, customer, pay):
    number = place_order(customer.client)
    application = application_of(app, order_row(app, number))
    assert application.details["insured"]["id_number"] == ME
    assert customer.client.get("/buy/anxin-million-medical").headers["Location"].endswith("/done")
    paid_policy(customer.client, pay, number)
    application = application_of(app, order_row(app, number))
    assert application.status == "paid" and application.details == {}


def test_the_policy_page_and_my_policies(app, customer, pay):
    policy_number = paid_policy(customer.client, pay)
    page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    for text_ in (policy_number, "安心百万医疗2026（基础版）", "2026-11-26 00:00 起至 2027-11-25 24:00 止", "¥290.00/年",
                  "张*", "110***********" + ME[-4:], "法定受益人", "《安心百万医疗2026保险条款》", "《微保服务协议》",
                  "待生效", "下载电子保单（PDF）"):
        assert text_ in page, text_
    assert ME not in page and "张伟" not in page
    mine = customer.client.get("/me/policies").get_data(as_text=True)
    assert policy_number in mine and "安心百万医疗2026" in mine
    with app.app_context():
        stored = db.session.execute(text("SELECT data FROM policy WHERE number = :n"), {"n": policy_number}).scalar()
        assert ME not in stored and "张伟" not in stored  # encrypted at rest


def test_the_pdf_is_the_policy_in_chinese(customer, pay):
    from io import BytesIO

    from pypdf import PdfReader
    policy_number = paid_policy(customer.client, pay)
    response = customer.client.get(f"/policies/{policy_number}.pdf")
    assert response.mimetype == "application/pdf" and "attachment" in response.headers["Content-Disposition"]
    content = "".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    assert policy_number in content and "安心百万医疗2026" in content and "电子保险单" in content
    assert ME not in content


def test_someone_elses_order_or_policy_is_not_found(customer, member, pay):
    number = place_order(customer.client)
    policy_number = paid_policy(customer.client, pay, number)
    other = member(nickname="别人")
    accept(other.client, other.client.get("/agreements/accept?next=/").get_data(as_text=True),
           birth_date="1985-01-01")
    for path in (f"/orders/{number}", f"/orders/{number}/pay", f"/orders/{number}/status",
                 f"/policies/{policy_number}", f"/policies/{policy_number}.pdf"):
        assert other.client.get(path).status_code == 404, path
    token_ = csrf_token(other.client)
    assert other.client.post(f"/orders/{number}/check", data={"csrf_token": token_}).status_code == 404
    assert other.client.post(f"/policies/{policy_number}/surrender",
                             data={"csrf_token": token_, "confirmed": "y"}).status_code == 404
    assert customer.client.get("/orders/DD20261125000000000x/pay").status_code == 404


def test_the_pay_page_says_so_when_wechat_pay_is_unavailable(customer, pay):
    number = place_order(customer.client)
    pay.state.fail_next["wechatpay_simulator.native"] = [(500, "SYSTEM_ERROR", "系统繁忙")]
    response = customer.client.get(f"/orders/{number}/pay")
    assert response.status_code == 503 and "暂时无法发起微信支付" in response.get_data(as_text=True)
    assert "qr-image" in customer.client.get(f"/orders/{number}/pay").get_data(as_text=True)  # the retry works


def test_surrender_within_the_cooling_off_period_refunds_and_ends_the_policy(app, customer, pay):
    policy_number = paid_policy(customer.client, pay)
    page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    assert "退保（犹豫期内，至 2026-12-10）" in page
    unconfirmed = customer.client.post(f"/policies/{policy_number}/surrender", data={"csrf_token": token(page)})
    assert unconfirmed.status_code == 422 and "请勾选确认退保" in unconfirmed.get_data(as_text=True)
    done = customer.client.post(f"/policies/{policy_number}/surrender", data={"csrf_token": token(page),
                                                                              "confirmed": "y"})
    page = customer.client.get(done.headers["Location"]).get_data(as_text=True)
    assert "退保申请已提交" in page and "退保处理中" in page
    pay.state.complete_refunds()  # WeChat Pay refunds and notifies
    assert pay.state.deliveries[-1]["event_type"] == "REFUND.SUCCESS" and pay.state.deliveries[-1]["status"] == 204
    page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    assert "已退保" in page and "申请退保" not in page
    with app.app_context():
        policy = db.session.scalar(select(Policy).where(Policy.number == policy_number))
        assert policy.status == "surrendered" and policy.order.status == "refunded"


def test_a_lost_refund_notification_is_made_up_when_the_policy_is_viewed(app, customer, pay, monkeypatch):
    policy_number = paid_policy(customer.client, pay)
    page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    customer.client.post(f"/policies/{policy_number}/surrender", data={"csrf_token": token(page), "confirmed": "y"})
    for refund in pay.state.refunds.values():
        monkeypatch.setitem(refund, "notify_url", "http://127.0.0.1:9/lost")
    pay.state.complete_refunds()
    assert "已退保" in customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)


def test_no_surrender_after_the_cooling_off_period(customer, pay, clock):
    policy_number = paid_policy(customer.client, pay)
    page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    clock.advance(days=16)
    assert "申请退保" not in customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    answer = customer.client.post(f"/policies/{policy_number}/surrender", data={"csrf_token": token(page),
                                                                                "confirmed": "y"})
    page = customer.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已超过15天犹豫期" in page and not pay.state.refunds.get(policy_number)


def test_state_changes_need_the_csrf_token(customer, pay):
    number = place_order(customer.client)
    assert customer.client.post(f"/orders/{number}/check").status_code == 400
    policy_number = paid_policy(customer.client, pay, number)
    assert customer.client.post(f"/policies/{policy_number}/surrender", data={"confirmed": "y"}).status_code == 400


def pdf_text(client, policy_number):
    from io import BytesIO

    from pypdf import PdfReader
    response = client.get(f"/policies/{policy_number}.pdf")
    return "".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)


def test_the_page_the_pdf_my_policies_and_my_data_say_one_status(customer, pay, clock):
    policy_number = paid_policy(customer.client, pay)  # issued on 2026-11-25, coverage from 2026-11-26
    for days, code, words in ((0, "pending_start", "待生效"), (1, "in_force", "保障中"), (365, "expired", "已到期")):
        clock.advance(days=days)
        page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
        assert f'data-testid="policy-status">{words}<' in page, words
        mine = customer.client.get("/me/policies").get_data(as_text=True)
        assert f'data-testid="policy-status">{words}<' in mine, words
        content = pdf_text(customer.client, policy_number)
        assert f"保单状态 {words}" in content, words
        exported = json.loads(customer.client.get("/me/data.json").get_data(as_text=True))["policies"][0]
        assert (exported["status"], exported["status_text"]) == (code, words)


def test_clause_versions_read_as_the_issue_day_with_the_digest_as_evidence(app, customer, pay):
    import hashlib

    from app.catalog.models import Document, Product
    policy_number = paid_policy(customer.client, pay)
    with app.app_context():
        product = db.session.scalar(select(Product).where(Product.slug == "anxin-million-medical"))
        clauses = next(d for d in product.documents if d.kind == "clauses")
        digest = hashlib.sha256(clauses.body.encode()).hexdigest()
        effective_on = db.session.execute(text(
            "SELECT v.effective_on FROM agreement_version v JOIN agreement a ON a.id = v.agreement_id "
            "WHERE a.kind = 'service' AND v.version = '1.0'")).scalar()
    page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    line = re.search(r'<li data-testid="clause-version">(.*?《安心百万医疗2026保险条款》.*?)</li>', page, re.S).group(1)
    assert "2026-11-25 出单时的版本" in line and "版本 " + digest[:12] not in page
    assert 'href="/products/anxin-million-medical/documents/clauses">《' in line  # the very text insured
    assert f"校验码 {digest[:12]}" in line and f'title="条款全文的 SHA-256 校验码：{digest}"' in line
    assert re.search(rf'<a href="/agreements/service\?version=1.0">《微保服务协议》</a>\s+'
                     rf'<span class="version-when">版本 1.0，{effective_on} 生效', page)
    content = pdf_text(customer.client, policy_number)
    assert "2026-11-25 出单时的版本" in content and digest[:12] in content.replace("\n", "")
    exported = json.loads(customer.client.get("/me/data.json").get_data(as_text=True))["policies"][0]
    assert {"title": "安心百万医疗2026保险条款", "kind": "clauses", "sha256": digest} in exported["terms"]["clauses"]

    original = clauses.body
    try:
        with app.app_context():  # the insurer's text changes after the policy was issued
            db.session.get(Document, clauses.id).body += "\n\n第九条 新增条款。"
            db.session.commit()
        page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    finally:
        with app.app_context():  # the catalog is shared by the session's tests
            db.session.get(Document, clauses.id).body = original
            db.session.commit()
    line = re.search(r'<li data-testid="clause-version">(.*?《安心百万医疗2026保险条款》.*?)</li>', page, re.S).group(1)
    assert "<a " not in line and "条款已更新" in line and f"校验码 {digest[:12]}" in line
