"""The audit log: every back-office action writes one row (models.AuditEvent), in the same transaction as the
change it records, so a change is never without its row.

What goes in ``before``/``after`` is chosen by the caller, field by field, and is never personal data: for a
revealed mobile number the row says *that* the mobile number was shown and why, never the number. As a
second line of defence, ID and mobile numbers that slip into a diff or a reason are redacted as the logs
redact them (core/logs.py). Each capability's screens (products, agreements, partners) record their actions
through ``record`` with their own action names, declared with ``register``.
"""
import json

from sqlalchemy import select

from app.admin.models import AuditEvent
from app.core.clock import db_now
from app.core.logs import redact
from app.extensions import db

ACTIONS = {
    "staff.login": "登录",
    "staff.login_failed": "登录失败",
    "staff.locked_out": "连续失败被锁定",
    "staff.logout": "退出登录",
    "staff.password_changed": "修改密码",
    "staff.totp_enrolled": "绑定身份验证器",
    "staff.recovery_code_used": "使用恢复码登录",
    "staff.recovery_codes_renewed": "重新生成恢复码",
    "staff.created": "开设后台账号",
    "staff.roles_changed": "修改角色",
    "staff.locked": "锁定账号",
    "staff.unlocked": "解除锁定",
    "staff.password_reset": "重置密码",
    "user.search": "查询用户",
    "user.viewed": "查看用户档案",
    "pii.revealed": "查看完整个人信息",
    "audit.exported": "导出审计日志",
}

OBJECT_TYPES = {"admin_staff": "后台账号", "user": "用户", "audit_event": "审计日志"}

# How the fields of before/after read on the screen (the CSV keeps the JSON as stored).
FIELD_LABELS = {
    "username": "用户名", "display_name": "姓名", "roles": "角色", "locked": "锁定", "locked_until": "锁定至",
    "must_change_password": "须修改密码", "authenticator": "身份验证器", "recovery_codes": "恢复码数量",
    "left": "剩余恢复码", "second_factor": "验证方式", "step": "环节", "other_sessions": "其他登录", "field": "查看的信息",
    "by": "查找方式", "found": "找到", "filters": "筛选条件", "rows": "导出条数",
}
VALUE_LABELS = {
    "second_factor": {"totp": "身份验证器", "recovery": "恢复码", "enrol": "首次绑定"},
    "step": {"password": "密码", "second_factor": "验证码", "enrol": "绑定身份验证器"},
    "field": {"mobile": "手机号码", "real_name": "姓名", "id_number": "身份证号码", "email": "电子邮箱"},
    "by": {"nickname": "微信昵称", "order": "订单号", "policy": "保单号", "application": "投保单号", "voucher": "券码",
           "mobile": "手机尾号+姓名"},
}


def register(*, actions=None, object_types=None, field_labels=None, value_labels=None):
    """A capability's own audit vocabulary (its module calls this at import): action names, object types,
    and how the fields of its diffs read on the screen."""
    ACTIONS.update(actions or {})
    OBJECT_TYPES.update(object_types or {})
    FIELD_LABELS.update(field_labels or {})
    for key, labels in (value_labels or {}).items():
        VALUE_LABELS.setdefault(key, {}).update(labels)


def _json(values):
    return redact(json.dumps(values or {}, ensure_ascii=False, sort_keys=True, default=str))


def changes(before, after):
    """Only the fields that differ, as (before, after) dicts."""
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(action, *, staff=None, object_type="", object_id="", before=None, after=None, reason="", ip="",
           now=None, username=None):
    """Add one row to the session (the caller's transaction commits it). ``staff`` is who acted (None: no
    account, such as a failed login with an unknown username)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        at=now or db_now(), staff_id=staff.id if staff is not None else None,
        staff_username=(staff.username if staff is not None else username or "")[:40],
        roles=",".join(staff.roles) if staff is not None else "",
        action=action, object_type=object_type, object_id=str(object_id or "")[:40],
        before=_json(before), after=_json(after), reason=redact(reason or "")[:200], ip=(ip or "")[:64])
    db.session.add(event)
    return event


def _shown(key, value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(item) for item in value) or "无"
    if isinstance(value, dict):
        return "；".join(f"{FIELD_LABELS.get(k, k)} {_shown(k, v)}" for k, v in value.items())
    return VALUE_LABELS.get(key, {}).get(value, str(value))


def diff_of(event):
    """The row's before and after as [(label, before, after)] for the screen (before None: nothing before)."""
    before, after = json.loads(event.before or "{}"), json.loads(event.after or "{}")
    return [(FIELD_LABELS.get(key, key), _shown(key, before.get(key)) if key in before else None,
             _shown(key, after.get(key)) if key in after else "—") for key in sorted({**before, **after})]


def search(*, staff_id=None, action=None, object_type=None, object_id=None, since=None, until=None):
    """The filtered log, newest first (a Select, for paging or export)."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if staff_id:
        query = query.where(AuditEvent.staff_id == staff_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return query
