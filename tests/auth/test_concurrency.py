"""Double clicks and two workers: the same login confirmed or consumed twice at once happens once.
Threads against the real database (a SQLite file here, PostgreSQL in the second run of tests/run.sh)."""
import threading

from sqlalchemy import func, select

from app.auth.models import User, WeChatIdentity
from app.extensions import db
from tests.conftest import HX


def clone(app, client, paths):
    """Another client holding the same cookies: the same browser sending a second request."""
    other = app.test_client()
    for name, path in paths:
        cookie = client.get_cookie(name, path=path)
        if cookie:
            other.set_cookie(name, cookie.value, path=path)
    return other


def at_once(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_confirmations_and_two_polls_at_once_make_exactly_one_session(app, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token, user="new", nickname="并发用户")
    second_tab = clone(app, p.client, [("session", "/")])

    def press(client):
        return lambda: client.post(f"/m/login/{d.token}/confirm", data={"csrf_token": p.csrf})

    confirmations = at_once(press(p.client), press(second_tab))
    assert sorted(r.status_code for r in confirmations) == [200, 409]
    assert any("无需重复操作" in r.get_data(as_text=True) for r in confirmations)

    other_worker = clone(app, d.client, [("session", "/"), (f"qrl_{d.public_id}", "/login")])
    polls = at_once(lambda: d.client.get(d.poll_url, headers=HX),
                    lambda: other_worker.get(d.poll_url, headers=HX))
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
    results = at_once(*[lambda d=d, p=p: p.press(d.token, "confirm")[0].status_code for d, p in pairs])
    assert results == [200, 200]
    for d, _ in pairs:
        assert d.poll()[0].headers.get("HX-Redirect") == "/"
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.nickname == "两台电脑")) == 1
