"""Races, for real: work released in several threads at the same moment, a second request of the same
browser, and the test client's login carried to a requests session for concurrent HTTP to the live server.
The database is a real one (a SQLite file, or PostgreSQL in the second run of tests/run.sh)."""
import threading
from concurrent.futures import ThreadPoolExecutor

import requests


def at_once(count, work):
    """Run ``work(i)`` for each i in range(count), in ``count`` threads released at the same moment (a
    barrier); their results in order. An exception in a thread is raised here."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return work(i)
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def clone(app, client, paths):
    """Another client holding the same cookies: the same browser sending a second request."""
    other = app.test_client()
    for name, path in paths:
        cookie = client.get_cookie(name, path=path)
        if cookie:
            other.set_cookie(name, cookie.value, path=path)
    return other


def http_session(client):
    """A requests session with the test client's cookies (consumer or staff), for real concurrent HTTP."""
    session = requests.Session()
    for name, path in (("session", "/"), ("partner_session", "/partner")):
        cookie = client.get_cookie(name, path=path)
        if cookie is not None:
            session.cookies.set(name, cookie.value, domain="127.0.0.1", path=path)
    return session
