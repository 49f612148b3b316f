"""Double clicks and two workers: the same login confirmed or consumed twice at once happens once.
Threads against the real database (a SQLite file here, PostgreSQL in the second run of tests/run.sh)."""
from sqlalchemy import func, select

from app.auth.models import User, WeChatIdentity
from app.extensions import db
from tests.support.concurrency import at_once, clone
from tests.support.web import HX


def test_two_confirmations_and_two_polls_at_once_make_exactly_one_session(app, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token, user="new", nickname="并发用户")
    second_tab = clone(app, p.client, [("session", "/")])

    tabs = [p.client, second_tab]
    confirmations = at_once(2, lambda i: tabs[i].post(f"/m/login/{d.token}/confirm", data={"csrf_token": p.csrf}))
    assert sorted(r.status_code for r in confirmations) == [200, 409]
    assert any("无需重复操作" in r.get_data(as_text=True) for r in confirmations)

    other_worker = clone(app, d.client, [("session", "/"), (f"qrl_{d.public_id}", "/login")])
    workers = [d.client, other_worker]
    polls = at_once(2, lambda i: workers[i].get(d.poll_url, headers=HX))
    assert [bool(r.headers.get("HX-Redirect")) for r in polls].count(True) == 1
    with app.app_context():
        users = db.session.scalars(select(User).where(User.nickname == "并发用户")).all()
        assert len(users) == 1
        assert db.session.scalar(select(func.count(WeChatIdentity.id)).where(
            WeChatIdentity.user_id == users[0].id)) == 1


def test_the_same_person_logging_in_on_two_desktops_at_once_gets_one_account(app, desktop, phone):
    pairs = [(desktop(), phone()) for _ in range(2)]
    for d, p in pairs:
        p.authorize(d.token, user="new", nickname="两台电脑")
    results = at_once(len(pairs), lambda i: pairs[i][1].press(pairs[i][0].token, "confirm")[0].status_code)
    assert results == [200, 200]
    for d, _ in pairs:
        assert d.poll()[0].headers.get("HX-Redirect") == "/"
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.nickname == "两台电脑")) == 1
