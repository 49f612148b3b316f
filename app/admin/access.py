"""Who may open what in the back office. Every view under /admin declares it with one decorator:

- ``@requires("permission", …)``: a signed-in staff member whose roles grant every permission named;
  ``@requires()`` any signed-in staff member;
- ``@public``: the login pages themselves.

Anyone not signed in is sent to the login page; a staff member without the permission gets 403, a page that
says so in Chinese, never the page asked for. A view under /admin that declares nothing is refused too
(``guard``, before any view runs): forgetting the decorator fails closed. Each capability's back-office
screens (later sessions) use the same decorators and add their entries to the navigation with ``section``.
"""
from dataclasses import dataclass
from functools import wraps

from flask import current_app, render_template, request, url_for

from app.admin import auth
from app.admin.roles import PERMISSIONS
from app.core.htmx import go_to, wants_fragment

PUBLIC = "public"


def requires(*permissions):
    unknown = [p for p in permissions if p not in PERMISSIONS]
    if unknown:
        raise ValueError(f"unknown permissions {unknown}")

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            staff = auth.current_staff()
            if staff is None:
                return to_login()
            missing = [p for p in permissions if not staff.can(p)]
            if missing:
                return forbidden(missing)
            return view(*args, **kwargs)
        wrapper.admin_access = tuple(permissions)
        return wrapper
    return decorate


def public(view):
    view.admin_access = PUBLIC
    return view


def access_of(view):
    """What a view declares (a tuple of permissions, PUBLIC), or None; decorators in between are looked through."""
    while view is not None:
        declared = getattr(view, "admin_access", None)
        if declared is not None:
            return declared
        view = getattr(view, "__wrapped__", None)
    return None


def to_login():
    """To the login page, with the page to come back to (a GET's own path)."""
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    expired = auth.session_expired() or None
    return go_to(url_for("admin.login", next=back, idle=1 if expired else None))


def forbidden(missing=()):
    message = "你的角色没有此操作的权限" + (f"（需要：{'、'.join(PERMISSIONS[p] for p in missing)}）" if missing else "")
    if wants_fragment():
        return render_template("errors/fragment.html", title="无权访问", message=message), 403
    return render_template("admin/forbidden.html", message=message, staff=auth.current_staff()), 403


def guard():
    """Before every request: a view under /admin with no declaration is refused (fail closed)."""
    rule = request.url_rule
    if rule is None or not rule.rule.startswith("/admin"):
        return None
    if access_of(current_app.view_functions.get(request.endpoint)) is None:
        return forbidden()
    return None


# The navigation: each entry shown only to those who may open it.

@dataclass(frozen=True)
class Section:
    label: str
    endpoint: str
    permission: str | None  # None: every signed-in staff member
    position: int
    pages: tuple = ()  # the endpoints of the section's other pages (the entry is marked current on them too)

    def current(self, endpoint):
        return endpoint == self.endpoint or endpoint in self.pages


SECTIONS = []


def section(label, endpoint, permission=None, position=100, pages=()):
    """Adds an entry to the back office's navigation (and its home page)."""
    if permission is not None and permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if all(s.endpoint != endpoint for s in SECTIONS):
        SECTIONS.append(Section(label, endpoint, permission, position, tuple(pages)))
        SECTIONS.sort(key=lambda s: s.position)


def sections_for(staff):
    return [s for s in SECTIONS if staff is not None and (s.permission is None or staff.can(s.permission))]
