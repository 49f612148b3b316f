"""A simulator of WeChat's side of web authorization, for development and tests.

It speaks the protocol of app/auth/wechat.py: an authorize page (pick or create a demo WeChat user, or
refuse) that redirects back with a code, and the sns/oauth2/access_token and sns/userinfo JSON endpoints,
with WeChat's errcodes. `make run` serves it at /dev/wechat when no WECHAT_APPID is configured; tests also
mount it in a separate server on a loopback port as the fake WeChat. Production config never registers it.

Codes and access tokens carry what they stand for, signed with SECRET_KEY and dated, so any worker (or a
second process on the same host) accepts what another issued. A code is single-use through a conditional
insert into a small SQLite file of the simulator's own in the instance folder, shared by every process
here. Not the app's database: the site's WeChat callback may hold SQLite's write lock while it asks for the
token, and a simulator waiting for that lock would deadlock it. What a test arranges (fail_next) and the
template messages "delivered" stay in the process that has them.
"""
import hashlib
import os
import secrets
import sqlite3
import threading
from contextlib import closing
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from itsdangerous import BadSignature, URLSafeSerializer

from app.core.clock import utcnow

SIM_APPID = "wx5e1a0c0ffee0demo"
SIM_SECRET = "simulator-secret-not-for-production"
CODE_TTL = timedelta(minutes=5)
TOKEN_TTL = timedelta(hours=2)

DEMO_USERS = {
    "zhang": {"nickname": "张小明", "sex": 1, "province": "广东", "city": "深圳"},
    "li": {"nickname": "李晓红", "sex": 2, "province": "上海", "city": "上海"},
    "wang": {"nickname": "王大伟", "sex": 1, "province": "北京", "city": "北京"},
    "no-unionid": {"nickname": "赵六（未关注公众号）", "sex": 0, "province": "四川", "city": "成都",
                   "no_unionid": True},
    "snapshot": {"nickname": "快照页访客", "snapshot": True},
}
COLORS = ["#07a35a", "#1677ff", "#f26b1d", "#8e44ad", "#d83931", "#13a8a8"]

bp = Blueprint("wechat_simulator", __name__, url_prefix="/dev/wechat")


class SimulatedWeChat:
    """Errcodes a test asks the next call of an endpoint to answer with, and the messages sent."""

    def __init__(self):
        self.fail_next = {}
        self.messages = []  # template messages "delivered"
        self.lock = threading.Lock()

    def take_failure(self, endpoint):
        with self.lock:
            queue = self.fail_next.get(endpoint) or []
            return queue.pop(0) if queue else None


def init_app(app):
    from app.extensions import csrf
    app.extensions["wechat_simulator"] = SimulatedWeChat()
    csrf.exempt(bp)  # it stands for WeChat's own servers and pages, not ours
    app.register_blueprint(bp)


def _state():
    return current_app.extensions["wechat_simulator"]


def _signer(kind):
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"wechat-simulator-{kind}")


def _issue(kind, key, nickname, ttl, scope="snsapi_userinfo"):
    """A code or an access token: who authorized, for what scope, until when, and (for codes) a nonce to
    spend once."""
    return _signer(kind).dumps({"u": key, "n": nickname, "s": scope, "x": (utcnow() + ttl).timestamp(),
                                "j": secrets.token_urlsafe(8)})


def _read(kind, value):
    """The signed content of a code or token, or None when it is not one of ours."""
    try:
        content = _signer(kind).loads(value)
    except BadSignature:
        return None
    return content if isinstance(content, dict) and {"u", "n", "x", "j"} <= content.keys() else None


def _spend(code):
    """Record the code as used; False when some process already did (the primary key decides)."""
    path = os.path.join(current_app.instance_path, "wechat-simulator.sqlite3")
    os.makedirs(current_app.instance_path, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=10)) as connection, connection:
        connection.execute("CREATE TABLE IF NOT EXISTS used_code (nonce TEXT PRIMARY KEY, expires REAL NOT NULL)")
        # An expired code is refused on its date before it gets here: its record is no longer needed.
        connection.execute("DELETE FROM used_code WHERE expires < ?", (utcnow().timestamp(),))
        inserted = connection.execute("INSERT OR IGNORE INTO used_code (nonce, expires) VALUES (?, ?)",
                                      (code["j"], code["x"])).rowcount
    return inserted == 1


def _digest(*parts):
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:27]


def demo_profile(key, nickname=None):
    """The WeChat user a choice on the authorize page stands for; the same choice, the same openid."""
    spec = DEMO_USERS.get(key) or {"nickname": nickname, "sex": 0, "province": "", "city": ""}
    return {
        "openid": "o" + _digest(SIM_APPID, key),
        "unionid": None if spec.get("no_unionid") else "u" + _digest(key),
        "nickname": spec["nickname"], "sex": spec.get("sex", 0), "province": spec.get("province", ""),
        "city": spec.get("city", ""), "country": "中国" if spec.get("city") else "",
        "headimgurl": current_app.config["SITE_URL"].rstrip("/") + f"/dev/wechat/avatar/{_digest(key)}.svg",
        "snapshot": bool(spec.get("snapshot")),
    }


def _error(errcode, errmsg):
    # WeChat answers errors with HTTP 200 and an errcode.
    return jsonify(errcode=errcode, errmsg=f"{errmsg}, rid: {secrets.token_hex(4)}")


SCOPES = ("snsapi_base", "snsapi_userinfo")
# Who "this phone's WeChat" is: WeChat knows it without asking; the simulator remembers the last choice.
PHONE_USER_COOKIE = "sim_wechat_user"


@bp.get("/connect/oauth2/authorize")
def authorize():
    """WeChat's consent page, as a phone would show it. snsapi_base is silent, as in WeChat: once this
    phone has a simulated WeChat user, it goes straight back with a code."""
    args = request.args
    if args.get("appid") != SIM_APPID:
        return render_template("auth/simulator.html", error="appid 无效（40013）"), 400
    if args.get("response_type") != "code" or urlsplit(args.get("redirect_uri", "")).path != "/auth/wechat/callback":
        return render_template("auth/simulator.html", error="redirect_uri 参数错误"), 400
    if args.get("scope") not in SCOPES:
        return render_template("auth/simulator.html", error="scope 参数错误（10005）"), 400
    phone_user = _read("phone", request.cookies.get(PHONE_USER_COOKIE, ""))
    if args["scope"] == "snsapi_base" and phone_user is not None:
        return _back(args["redirect_uri"], args.get("state", ""), phone_user["u"], phone_user["n"], "snsapi_base")
    return render_template("auth/simulator.html", users=DEMO_USERS, args=args,
                           chosen=phone_user["u"] if phone_user else None)


def _back(redirect_uri, state, key, nickname, scope):
    """Back to the site with a code; this phone's WeChat user remembered for silent authorization."""
    separator = "&" if "?" in redirect_uri else "?"
    params = {"code": _issue("code", key, nickname, CODE_TTL, scope), "state": state}
    response = redirect(redirect_uri + separator + urlencode(params))
    response.set_cookie(PHONE_USER_COOKIE, _issue("phone", key, nickname, TOKEN_TTL * 24 * 30),
                        path="/dev/wechat", httponly=True, samesite="Lax")
    return response


@bp.post("/connect/oauth2/authorize")
def approve():
    """允许 returns to the site with a code; 拒绝 returns with the state only, as WeChat does."""
    form = request.form
    redirect_uri, state = form.get("redirect_uri", ""), form.get("state", "")
    if urlsplit(redirect_uri).path != "/auth/wechat/callback":
        abort(400)
    if form.get("action") != "allow":
        separator = "&" if "?" in redirect_uri else "?"
        return redirect(redirect_uri + separator + urlencode({"state": state}))
    nickname = form.get("nickname", "").strip()[:20]
    key = form.get("user", "")
    if key == "new":
        if not nickname:
            return render_template("auth/simulator.html", users=DEMO_USERS, args=form,
                                   nickname_error="请输入昵称"), 422
        key = "custom:" + nickname
    elif key not in DEMO_USERS:
        abort(400)
    scope = form.get("scope") if form.get("scope") in SCOPES else "snsapi_userinfo"
    return _back(redirect_uri, state, key, nickname, scope)


def failable(endpoint):
    """Lets a test make the next call of ``endpoint`` answer with an errcode (state.fail_next)."""
    def decorate(view):
        @wraps(view)
        def wrapper():
            failure = _state().take_failure(endpoint)
            return _error(failure, "simulated failure") if failure else view()
        return wrapper
    return decorate


@bp.get("/sns/oauth2/access_token")
@failable("access_token")
def access_token():
    args = request.args
    if args.get("appid") != SIM_APPID:
        return _error(40013, "invalid appid")
    if args.get("secret") != SIM_SECRET:
        return _error(40125, "invalid appsecret")
    if args.get("grant_type") != "authorization_code":
        return _error(40002, "invalid grant_type")
    if not args.get("code"):
        return _error(41008, "missing code")
    code = _read("code", args["code"])
    if code is None:
        return _error(40029, "invalid code")
    if utcnow().timestamp() >= code["x"]:
        return _error(42003, "code expired")
    if not _spend(code):
        return _error(40163, "code been used")
    profile = demo_profile(code["u"], code["n"])
    scope = code.get("s", "snsapi_userinfo")
    token = _issue("token", code["u"], code["n"], TOKEN_TTL, scope)
    body = {"access_token": token, "expires_in": 7200, "refresh_token": secrets.token_urlsafe(24),
            "openid": profile["openid"], "scope": scope}
    if profile["unionid"] and scope == "snsapi_userinfo":  # unionid: the userinfo scope only
        body["unionid"] = profile["unionid"]
    if profile["snapshot"]:
        body["is_snapshotuser"] = 1
    return jsonify(body)


@bp.get("/sns/userinfo")
@failable("userinfo")
def userinfo():
    args = request.args
    token = _read("token", args.get("access_token", ""))
    if token is None:
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    if utcnow().timestamp() >= token["x"]:
        return _error(42001, "access_token expired")
    profile = demo_profile(token["u"], token["n"])
    if args.get("openid") != profile["openid"]:
        return _error(40003, "invalid openid")
    if profile["snapshot"] or token.get("s") == "snsapi_base":
        return _error(48001, "api unauthorized")
    body = {key: profile[key] for key in ("openid", "nickname", "province", "city", "country", "headimgurl")}
    body.update(sex=profile["sex"], privilege=[])
    if profile["unionid"]:
        body["unionid"] = profile["unionid"]
    return jsonify(body)


@bp.get("/cgi-bin/token")
@failable("cgi_token")
def cgi_token():
    """The official account's access token (client_credential)."""
    args = request.args
    if args.get("appid") != SIM_APPID or args.get("secret") != SIM_SECRET:
        return _error(40125, "invalid appsecret")
    return jsonify(access_token="sim-cgi-" + _digest(SIM_APPID, "cgi"), expires_in=7200)


@bp.post("/cgi-bin/message/template/send")
@failable("template_send")
def template_send():
    """A template message: kept, so the developer (or a test) can see what the user would get."""
    if request.args.get("access_token") != "sim-cgi-" + _digest(SIM_APPID, "cgi"):
        return _error(40001, "invalid credential")
    body = request.get_json(silent=True) or {}
    if not body.get("touser") or not body.get("template_id"):
        return _error(47001, "data format error")
    with _state().lock:
        _state().messages.append(body)
    return jsonify(errcode=0, errmsg="ok", msgid=len(_state().messages))


@bp.get("/avatar/<name>.svg")
def avatar(name):
    """A plain coloured square, standing in for a WeChat head image."""
    color = COLORS[int(name[:6], 16) % len(COLORS)] if all(c in "0123456789abcdef" for c in name[:6]) else COLORS[0]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" '
           f'rx="8" fill="{color}"/><circle cx="32" cy="25" r="11" fill="#fff" opacity=".9"/>'
           f'<path d="M12 56c3-12 11-17 20-17s17 5 20 17z" fill="#fff" opacity=".9"/></svg>')
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
