"""The WeChat callback asks WeChat first and takes the write lock after: a slow WeChat never makes
another user's write wait (on SQLite, where one writer holds the database)."""
import threading

from flask import Flask, request
from werkzeug.serving import make_server

from app import ROOT
from app.auth import simulator
from tests.support.agreements import accept
from tests.support.clock import CLOCK
from tests.support.web import token
from tests.support.wechat import Desktop, Phone


def test_a_slow_wechat_does_not_hold_up_another_users_write(app, member, monkeypatch):
    customer = member()
    accept(customer.client, customer.client.get("/agreements/accept?next=/").get_data(as_text=True))
    asked, answer = threading.Event(), threading.Event()
    slow = Flask("slow_wechat", template_folder=f"{ROOT}/templates", static_folder=f"{ROOT}/static")
    slow.config.update(SECRET_KEY="slow-wechat", CLOCK=CLOCK)
    simulator.init_app(slow)

    @slow.before_request
    def hold_the_token_answer():
        # WeChat takes its time over the code until someone else's write has gone through.
        if request.path.endswith("/sns/oauth2/access_token"):
            asked.set()
            answer.wait(timeout=60)

    server = make_server("127.0.0.1", 0, slow, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/dev/wechat"
    slow.config["SITE_URL"] = base.rsplit("/dev/wechat", 1)[0]
    for key, value in {"WECHAT_APPID": simulator.SIM_APPID, "WECHAT_SECRET": simulator.SIM_SECRET,
                       "WECHAT_OPEN_BASE": base, "WECHAT_API_BASE": base, "WECHAT_TIMEOUT": 60}.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        desktop, phone = Desktop(app), Phone(app)
        scanned = {}
        scanning = threading.Thread(target=lambda: scanned.update(zip(("response", "page"),
                                                                      phone.authorize(desktop.token))))
        scanning.start()
        assert asked.wait(timeout=30)  # the phone's callback is now waiting on WeChat

        page = customer.client.get("/me").get_data(as_text=True)
        csrf = token(page)
        saved = customer.client.post("/me/contact", data={
            "csrf_token": csrf, "mobile": "13900139000", "email": "", "province": "广东", "city": "深圳",
            "district": "南山区", "address": "科技园路1号A座"})
        assert saved.status_code == 302  # written while WeChat still had not answered
        answer.set()
        scanning.join(timeout=60)
        assert scanned["response"].status_code == 200
        assert f'action="/m/login/{desktop.token}/confirm"' in scanned["page"]  # the phone may confirm
    finally:
        answer.set()
        server.shutdown()
