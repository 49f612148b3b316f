"""内容审核 in the back office (moderation.review): 智能管家's term library (its terms filtered and searched, a term
added, a term retired: each change a new library version, on the audit log), the library's versions, and the review
events (what was refused, blocked, held, masked or stopped: category and library version, never the user's text).
The library's work itself is review.py's."""
from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from app.admin import auth as staff_auth
from app.admin import bp
from app.admin.access import requires, section
from app.admin.models import AdminStaff
from app.assistant import review
from app.assistant.models import TERM_ACTIONS, VERDICTS, ReviewEvent, ReviewLibraryVersion, ReviewTerm
from app.assistant.review_forms import (
    STAGES,
    TERM_STATES,
    EventFilterForm,
    RetireTermForm,
    TermFilterForm,
    TermForm,
)
from app.core.clock import db_now
from app.core.database import writes
from app.core.htmx import render_page
from app.core.routing import page_number
from app.extensions import db

section("内容审核", "admin.review_terms", "moderation.review", position=70, pages=(
    "admin.review_term_new", "admin.review_term_create", "admin.review_term", "admin.review_term_retire",
    "admin.review_versions", "admin.review_events"))

PAGE_SIZE = 30
DONE = {"added": "词条已加入词库，新版本立即生效。", "retired": "词条已停用，新版本立即生效。"}
ACTION_TAGS = {"block": "tag-danger", "hold": "tag-warn", "mask": "tag-kind", "allow": "tag-ok"}


def _valid(field):
    return field.data if not field.errors and field.data not in ("", None) else None


def _names(ids):
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(AdminStaff.id, AdminStaff.display_name).where(AdminStaff.id.in_(ids))).all())


def _common():
    return {"staff": staff_auth.current_staff(), "actions": TERM_ACTIONS, "action_tags": ACTION_TAGS,
            "version": review.current_version()}


# Terms

def terms_query(*, category=None, action=None, state="live", q=None):
    query = select(ReviewTerm).order_by(ReviewTerm.id.desc())  # the newest first
    if category:
        query = query.where(ReviewTerm.category == category)
    if action:
        query = query.where(ReviewTerm.action == action)
    if state == "live":
        query = query.where(ReviewTerm.removed_in.is_(None))
    elif state == "retired":
        query = query.where(ReviewTerm.removed_in.is_not(None))
    if q:
        normalised = review.normalise(q).text
        matches = [ReviewTerm.term.contains(q, autoescape=True)]
        if normalised:
            matches.append(ReviewTerm.normalised.contains(normalised, autoescape=True))
        query = query.where(or_(*matches))
    return query


@bp.get("/review/terms")
@requires("moderation.review")
def review_terms():
    """The library's terms, newest first (the live ones unless asked), filtered by category, action and a search; htmx swaps the
    results."""
    form = TermFilterForm()
    form.validate()
    query = terms_query(category=_valid(form.category), action=_valid(form.action),
                        state=_valid(form.state) or "live", q=_valid(form.q))
    found = db.paginate(query, page=page_number(request.args.get("page")), per_page=PAGE_SIZE, error_out=False)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_page("admin/review/terms.html", "results", 422 if form.errors else 200, form=form, found=found,
                       args=args, states=TERM_STATES, **_common())


def _render_new(form, status=200):
    return render_template("admin/review/term_new.html", form=form, **_common()), status


@bp.get("/review/terms/new")
@requires("moderation.review")
def review_term_new():
    return _render_new(TermForm(formdata=None))


@bp.post("/review/terms/new")
@requires("moderation.review")
@writes
def review_term_create():
    form = TermForm()
    if not form.validate():
        return _render_new(form, 422)
    try:
        term = review.add_term(staff_auth.current_staff(), term=form.term.data, category=form.category.data,
                               action=form.action.data, now=db_now(), ip=staff_auth.client_ip())
    except review.ReviewError as error:
        db.session.rollback()
        form[error.field if error.field in form else "term"].errors.append(error.message)
        return _render_new(form, 422)
    db.session.commit()
    return redirect(url_for("admin.review_term", term_id=term.id, done="added"))


def _term(term_id):
    term = db.session.get(ReviewTerm, term_id)
    if term is None:
        abort(404)
    return term


def _render_term(term, status=200, form=None, message=None, problem=None):
    return render_template("admin/review/term.html", term=term, message=message, problem=problem,
                           form=form or RetireTermForm(formdata=None, prefix="retire"),
                           names=_names([term.created_by_id]), normalised=term.normalised, **_common()), status


@bp.get("/review/terms/<int:term_id>")
@requires("moderation.review")
def review_term(term_id):
    return _render_term(_term(term_id), message=DONE.get(request.args.get("done", "")))


@bp.post("/review/terms/<int:term_id>/retire")
@requires("moderation.review")
@writes
def review_term_retire(term_id):
    term = _term(term_id)
    form = RetireTermForm(prefix="retire")
    if not form.validate():
        return _render_term(term, 422, form)
    try:
        review.retire_term(staff_auth.current_staff(), term, reason=form.reason.data, now=db_now(),
                           ip=staff_auth.client_ip())
    except review.ReviewError as error:
        db.session.rollback()
        return _render_term(_term(term_id), 409, form, problem=error.message)
    db.session.commit()
    return redirect(url_for("admin.review_term", term_id=term.id, done="retired"))


# Versions and events

@bp.get("/review/versions")
@requires("moderation.review")
def review_versions():
    query = select(ReviewLibraryVersion).order_by(ReviewLibraryVersion.version.desc())
    found = db.paginate(query, page=page_number(request.args.get("page")), per_page=PAGE_SIZE, error_out=False)
    return render_page("admin/review/versions.html", "results", found=found, args={},
                       names=_names(v.changed_by_id for v in found.items), **_common())


@bp.get("/review/events")
@requires("moderation.review")
def review_events():
    """What review refused, blocked, held, masked or stopped, newest first: the category and library version that
    decided it, the user's number and IP (masked), never what they wrote."""
    form = EventFilterForm()
    form.validate()
    query = select(ReviewEvent).order_by(ReviewEvent.at.desc(), ReviewEvent.id.desc())
    for column, field in ((ReviewEvent.stage, form.stage), (ReviewEvent.verdict, form.verdict),
                          (ReviewEvent.category, form.category)):
        if _valid(field):
            query = query.where(column == field.data)
    found = db.paginate(query, page=page_number(request.args.get("page")), per_page=PAGE_SIZE, error_out=False)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_page("admin/review/events.html", "results", 422 if form.errors else 200, form=form, found=found,
                       args=args, stages=STAGES, verdicts=VERDICTS, **_common())
