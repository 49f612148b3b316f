"""Two real server processes sharing Redis and the database, as two gunicorn workers do: rate limits are
counted once across both, and a WeChat simulator code issued by one is accepted by the other."""
import base64
import os
import signal
import socket
import subprocess
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import requests

from app import ROOT
from app.auth.simulator import SIM_APPID, SIM_SECRET

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs TEST_REDIS_URL (tests/run.sh starts a redis-server)")
LIMIT = 5
START_SECONDS = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(process, url):
    """Until gunicorn says its worker is booting (its own line on stderr), then /healthz answers: the master
    listens at once and the request waits in its backlog while the worker loads the app. A watchdog ends a
    server that takes longer than START_SECONDS."""
    watchdog = threading.Timer(START_SECONDS, process.kill)
    watchdog.start()
    try:
        for line in iter(process.stderr.readline, b""):
            if b"Booting worker" in line:
                break
        else:
            raise RuntimeError(f"server exited ({process.poll()}) before its worker booted")
    finally:
        watchdog.cancel()
    assert requests.get(url + "/healthz", timeout=START_SECONDS).status_code == 200


@pytest.fixture(scope="module")
def workers(app, database_url):
    """Two `gunicorn -w 1` processes on loopback ports (the app fixture has migrated the database)."""
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter("LIMITS:*"):  # a throwaway server: counts left by an earlier run go
        client.delete(key)
    env = {key: value for key, value in os.environ.items() if key not in ("WEB_CONCURRENCY", "SITE_URL")}
    env.update(APP_ENV="development", SECRET_KEY="test-secret-key", DATABASE_URL=database_url,
               DATA_KEY=base64.b64encode(bytes(range(32))).decode(), REDIS_URL=REDIS_URL,
               RATELIMIT_QR_CREATE=f"{LIMIT} per minute")
    servers = []
    try:
        for _ in range(2):
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--chdir", ROOT,
                 "wsgi:app"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            servers.append((process, f"http://127.0.0.1:{port}"))
        for process, url in servers:
            wait_until_serving(process, url)
        yield [url for _, url in servers]
    finally:
        for process, _ in servers:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        for process, _ in servers:
            process.wait(timeout=30)
            process.stderr.close()


def test_a_rate_limit_is_counted_once_across_processes(workers):
    answers = [requests.get(workers[i % 2] + "/login", timeout=10) for i in range(LIMIT + 1)]
    assert [r.status_code for r in answers] == [200] * LIMIT + [429]
    assert "操作太频繁" in answers[-1].text
    assert requests.get(workers[0] + "/login", timeout=10).status_code == 429


def test_a_simulator_code_from_one_process_is_exchanged_at_the_other_once(workers):
    first, second = workers
    response = requests.post(first + "/dev/wechat/connect/oauth2/authorize", allow_redirects=False, timeout=10,
                             data={"action": "allow", "user": "wang", "state": "s1",
                                   "redirect_uri": first + "/auth/wechat/callback"})
    code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    params = {"appid": SIM_APPID, "secret": SIM_SECRET, "code": code, "grant_type": "authorization_code"}
    token = requests.get(second + "/dev/wechat/sns/oauth2/access_token", params=params, timeout=10).json()
    assert "errcode" not in token
    info = requests.get(first + "/dev/wechat/sns/userinfo", timeout=10, params={
        "access_token": token["access_token"], "openid": token["openid"]}).json()
    assert info["nickname"] == "王大伟"
    for url in workers:
        again = requests.get(url + "/dev/wechat/sns/oauth2/access_token", params=params, timeout=10).json()
        assert again["errcode"] == 40163
