"""make bench: load the site and a hello-world Flask app under the same gunicorn (2 workers) with wrk,
and print requests/s as a ratio of hello-world measured in this same run, plus page weights.

Not a test: figures go in the issue notes. Loopback only; every wrk run is bounded (-d).
"""
import base64
import gzip
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".venv", "bin")
DURATION = os.environ.get("BENCH_DURATION", "5s")
PRODUCT = "/products/anxin-million-medical"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(app, env, cwd):
    port = free_port()
    proc = subprocess.Popen([os.path.join(BIN, "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", app], cwd=cwd, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):  # up to ~10 s for the workers to come up
        try:
            urllib.request.urlopen(base + "/", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    sys.exit(f"gunicorn {app} did not start")


def wrk(url, script=None):
    cmd = ["wrk", "-t2", "-c16", f"-d{DURATION}", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        sys.exit(f"{url}: {non_2xx.group(1)} error responses under load\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def fetch(url, headers=None, opener=None):
    request = urllib.request.Request(url, headers=headers or {})
    return (opener or urllib.request.build_opener()).open(request).read()


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def quote_script(base, workdir):
    """A wrk script posting the calculator form with a real session cookie and CSRF token."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = fetch(base + PRODUCT, opener=opener).decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    body = urllib.parse.urlencode({"plan": "basic", "age": "35", "gender": "F",
                                   "social_security": "yes", "frequency": "monthly"})
    path = os.path.join(workdir, "quote.lua")
    with open(path, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.body = "{body}"\n'
                f'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                f'wrk.headers["Cookie"] = "{cookie}"\nwrk.headers["X-CSRFToken"] = "{token}"\n'
                f'wrk.headers["HX-Request"] = "true"\n')
    return path


def htmx_script(workdir, cookie=None):
    path = os.path.join(workdir, "htmx-cookie.lua" if cookie else "htmx.lua")
    with open(path, "w") as f:
        f.write('wrk.headers["HX-Request"] = "true"\n')
        if cookie:
            f.write(f'wrk.headers["Cookie"] = "{cookie}"\n')
    return path


def qr_poll(base, workdir):
    """A pending QR login as the desktop browser holds it: the poll URL and the nonce cookie."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = fetch(base + "/login", opener=opener).decode()
    poll = re.search(r'hx-get="(/login/qr/[^"]+/status)"', page).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return poll, htmx_script(workdir, cookie)


def main():
    workdir = tempfile.mkdtemp(prefix="bench-")
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(32),
           "DATA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "DATABASE_URL": "sqlite:///" + os.path.join(workdir, "bench.db"), "FLASK_APP": "wsgi.py",
           "RATELIMIT_QUOTE": "10000000 per minute", "RATELIMIT_QR_POLL": "10000000 per minute"}
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([os.path.join(BIN, "flask"), *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    hello, hello_base = start_gunicorn("hello:app", env, os.path.join(ROOT, "bench"))
    site, base = start_gunicorn("wsgi:app", env, ROOT)
    try:
        q = "/products?q=" + urllib.parse.quote("医疗")
        baseline = wrk(hello_base + "/")
        rows = [("/healthz (this app's floor: no work at all)", wrk(base + "/healthz")),
                ("/", wrk(base + "/")),
                ("/products", wrk(base + "/products")),
                ("/products?q=医疗 (full page)", wrk(base + q)),
                ("/products?q=医疗 (htmx fragment)", wrk(base + q, htmx_script(workdir))),
                (PRODUCT, wrk(base + PRODUCT)),
                (PRODUCT + "/quote (htmx POST)", wrk(base + PRODUCT + "/quote", quote_script(base, workdir)))]
        poll, poll_script = qr_poll(base, workdir)
        rows.append(("/login/qr/<id>/status (htmx poll, pending)", wrk(base + poll, poll_script)))
        baseline_after = wrk(hello_base + "/")
        hello_rps = (baseline + baseline_after) / 2

        home = fetch(base + "/")
        assets = [fetch(base + src.decode()) for src in
                  re.findall(rb'(?:src|href)="(/static/[^"]+)"', home)]
        full = fetch(base + q)
        fragment = fetch(base + q, {"HX-Request": "true"})
        catalog_assets = [fetch(base + src.decode()) for src in
                          re.findall(rb'(?:src|href)="(/static/[^"]+)"', full)]
    finally:
        for proc in (hello, site):
            proc.terminate()
            proc.wait()

    print(f"\nhello-world baseline: {hello_rps:,.0f} req/s (before {baseline:,.0f}, after {baseline_after:,.0f}); "
          f"wrk -t2 -c16 -d{DURATION}, gunicorn -w 2, SQLite, demo catalog\n")
    print(f"{'page':48} {'req/s':>9} {'of hello':>9}")
    for name, rps in rows:
        print(f"{name:48} {rps:>9,.0f} {rps / hello_rps:>8.0%}")
    home_total = gz(home) + sum(gz(a) for a in assets)
    full_total = gz(full) + sum(gz(a) for a in catalog_assets)
    print("\npage weight (gzip -6)")
    print(f"  home page HTML                    {gz(home) / 1024:6.1f} KB")
    print(f"  home page with its CSS and JS     {home_total / 1024:6.1f} KB  (target <= 60 KB)")
    print(f"  catalog page HTML (q=医疗)         {gz(full) / 1024:6.1f} KB")
    print(f"  catalog page with its CSS and JS  {full_total / 1024:6.1f} KB")
    print(f"  catalog fragment (q=医疗)          {gz(fragment) / 1024:6.1f} KB  "
          f"= {gz(fragment) / full_total:.0%} of the full page with its assets, "
          f"{gz(fragment) / gz(full):.0%} of its HTML alone (target <= 20%)")


if __name__ == "__main__":
    main()
