"""Back-office accounts, as a 管理员 manages them: create (with a one-time password), roles, lock and unlock,
reset the password (the staff member sets their own and enrols an authenticator app again). Each writes its
audit row; the view commits. The back office always keeps one administrator who can sign in."""
from sqlalchemy import func, select

from app.admin import audit
from app.admin import auth as staff_auth
from app.admin.models import AdminStaff, AdminStaffRole
from app.admin.roles import ROLES, labels
from app.core.domain import DomainError
from app.extensions import db


class StaffError(DomainError):
    pass


def all_staff():
    return db.session.scalars(select(AdminStaff).order_by(AdminStaff.username)).all()


def get(staff_id):
    return db.session.get(AdminStaff, staff_id)


def _facts(staff, now):
    """What the audit log keeps of an account: never its password, secret or codes."""
    return {"username": staff.username, "display_name": staff.display_name, "roles": labels(staff.roles),
            "locked": staff.disabled_at is not None}


def create(actor, *, username, display_name, roles, now, ip, is_demo=False, password=None):
    """A new account; returns (staff, the one-time password to hand over, None when ``password`` was given)."""
    if db.session.scalar(select(AdminStaff.id).where(AdminStaff.username == username)):
        raise StaffError("该用户名已被使用", "username")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise StaffError("请选择有效的角色", "roles")
    one_time = None if password else staff_auth.one_time_password()
    staff = AdminStaff(username=username, display_name=display_name,
                       password_hash=staff_auth.hash_password(password or one_time),
                       must_change_password=password is None, session_token=staff_auth.new_session_token(),
                       created_at=now, is_demo=is_demo)
    staff.role_rows = [AdminStaffRole(role=role) for role in sorted(set(roles))]
    db.session.add(staff)
    db.session.flush()
    audit.record("staff.created", staff=actor, object_type="admin_staff", object_id=staff.id,
                 after=_facts(staff, now), ip=ip, now=now, username=None if actor else "flask admin")
    return staff, one_time


def _admins_left(excluding_id, now):
    """Administrators other than ``excluding_id`` who are not locked by an administrator."""
    return db.session.scalar(select(func.count()).select_from(AdminStaff).join(AdminStaffRole).where(
        AdminStaffRole.role == "admin", AdminStaff.id != excluding_id, AdminStaff.disabled_at.is_(None)))


def set_roles(actor, staff, roles, *, reason, now, ip):
    roles = sorted(set(roles))
    if any(r not in ROLES for r in roles):
        raise StaffError("请选择有效的角色", "roles")
    if "admin" in staff.roles and "admin" not in roles and not _admins_left(staff.id, now):
        raise StaffError("这是最后一位管理员，不能取消其管理员角色", "roles")
    if roles == staff.roles:
        return False
    before = _facts(staff, now)
    keep = {row.role: row for row in staff.role_rows}
    staff.role_rows = [keep.get(role) or AdminStaffRole(role=role) for role in roles]
    db.session.flush()
    audit.record("staff.roles_changed", staff=actor, object_type="admin_staff", object_id=staff.id,
                 before={"roles": before["roles"]}, after={"roles": labels(roles)}, reason=reason, ip=ip, now=now)
    return True


def lock(actor, staff, *, reason, now, ip):
    """Locked until an administrator unlocks: every session of the account ends now."""
    if staff.id == actor.id:
        raise StaffError("不能锁定自己的账号")
    if staff.disabled_at is not None:
        raise StaffError("该账号已处于锁定状态")
    if "admin" in staff.roles and not _admins_left(staff.id, now):
        raise StaffError("这是最后一位管理员，不能锁定")
    staff.disabled_at = now
    staff_auth.end_sessions(staff)
    audit.record("staff.locked", staff=actor, object_type="admin_staff", object_id=staff.id,
                 before={"locked": False}, after={"locked": True}, reason=reason, ip=ip, now=now)


def unlock(actor, staff, *, reason, now, ip):
    """Lifts an administrator's lock and a lockout after failures alike."""
    if staff.disabled_at is None and not staff.locked(now) and not staff.failed_logins:
        raise StaffError("该账号未被锁定")
    before = {"locked": staff.disabled_at is not None,
              "locked_until": staff.locked_until.isoformat(timespec="minutes") if staff.locked(now)
              and staff.locked_until else None}
    staff.disabled_at = staff.locked_until = None
    staff.failed_logins = 0
    audit.record("staff.unlocked", staff=actor, object_type="admin_staff", object_id=staff.id,
                 before=before, after={"locked": False, "locked_until": None}, reason=reason, ip=ip, now=now)


def reset_password(actor, staff, *, reason, now, ip):
    """Returns the one-time password to hand over. Not one's own: that is changed on 我的账号."""
    if staff.id == actor.id:
        raise StaffError("不能重置自己的密码，请在“我的账号”中修改")
    password = staff_auth.reset(staff)
    audit.record("staff.password_reset", staff=actor, object_type="admin_staff", object_id=staff.id,
                 after={"must_change_password": True, "authenticator": "须重新绑定"}, reason=reason, ip=ip, now=now)
    return password


def recent_events(staff, limit=20):
    """What was done to the account, and by it."""
    from app.admin.models import AuditEvent
    return db.session.scalars(select(AuditEvent).where(
        (AuditEvent.staff_id == staff.id) | ((AuditEvent.object_type == "admin_staff")
                                            & (AuditEvent.object_id == str(staff.id))))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all()
