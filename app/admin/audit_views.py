"""审计日志: filter by staff member, action, object and dates; export what the filter finds as CSV."""
import csv
import io
from datetime import UTC, datetime, time, timedelta

from flask import Response, request
from sqlalchemy import select

from app.admin import audit, bp
from app.admin import auth as staff_auth
from app.admin.access import requires, section
from app.admin.forms import AuditFilterForm
from app.admin.models import AdminStaff
from app.admin.roles import labels
from app.core.clock import SHANGHAI, db_now, format_local
from app.core.database import writes
from app.core.htmx import render_page
from app.core.masking import mask_ip
from app.core.routing import page_number
from app.extensions import db

section("审计日志", "admin.audit_log", "audit.view", position=90, pages=("admin.audit_export",))

PAGE_SIZE = 50
EXPORT_LIMIT = 50000


def _utc(day):
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def _filters():
    """The form and the filters it gives (a value it refuses counts as not given)."""
    everyone = db.session.scalars(select(AdminStaff).order_by(AdminStaff.username)).all()
    form = AuditFilterForm().set_staff(everyone)
    form.validate()

    def ok(field):
        return field.data if not field.errors and field.data not in ("", None) else None

    start, end = ok(form.start), ok(form.end)
    if start and end and end < start:
        start, end = end, start
    staff_id = ok(form.staff)
    filters = {"staff_id": int(staff_id) if staff_id else None, "action": ok(form.action),
               "object_type": ok(form.object_type), "object_id": ok(form.object_id),
               "since": _utc(start) if start else None, "until": _utc(end + timedelta(days=1)) if end else None}
    names = {s.id: s.display_name for s in everyone}
    return form, filters, names


@bp.get("/audit")
@requires("audit.view")
def audit_log():
    form, filters, names = _filters()
    events = db.paginate(audit.search(**filters), page=page_number(request.args.get("page")), per_page=PAGE_SIZE, error_out=False)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    staff = staff_auth.current_staff()
    return render_page("admin/audit.html", "events", 422 if form.errors else 200, staff=staff, form=form,
                       events=events, names=names, args=args, actions=audit.ACTIONS, objects=audit.OBJECT_TYPES,
                       diff_of=audit.diff_of, role_labels=lambda codes: labels(codes.split(",")),
                       can_export=staff.can("audit.export"))


@bp.get("/audit.csv")
@requires("audit.export")
@writes
def audit_export():
    """What the filter finds, as CSV (IP addresses masked, as on the page); the export itself is recorded."""
    _form, filters, names = _filters()
    rows = db.session.scalars(audit.search(**filters).limit(EXPORT_LIMIT)).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["时间", "操作人", "用户名", "角色", "操作", "对象类型", "对象编号", "变更前", "变更后", "原因", "IP"])
    for event in rows:
        writer.writerow([format_local(event.at, "%Y-%m-%d %H:%M:%S"), _cell(names.get(event.staff_id, "")),
                         event.staff_username, "、".join(labels(event.roles.split(","))),
                         audit.ACTIONS.get(event.action, event.action), audit.OBJECT_TYPES.get(event.object_type, event.object_type),
                         event.object_id, event.before, event.after, _cell(event.reason), mask_ip(event.ip)])
    staff = staff_auth.current_staff()
    shown = {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in filters.items() if value}
    audit.record("audit.exported", staff=staff, object_type="audit_event", after={"filters": shown, "rows": len(rows)},
                 ip=staff_auth.client_ip())
    db.session.commit()
    filename = f"audit-{db_now():%Y%m%d-%H%M}.csv"
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(text):
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
