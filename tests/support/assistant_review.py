"""Tests of 智能管家's review: terms added to the library for one test (and retired after it, so the library other
tests meet is the demo one), users of their own (their attempts and restrictions are theirs), the review events as
stored; and what the property test needs for 内容审核's screens: a term to open and retire, the forms' baselines.
Fixtures: ``library_term``, ``review_user``."""
import itertools
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.admin.models import AdminStaff
from app.assistant import review
from app.assistant.models import ReviewEvent, ReviewTerm
from app.auth.models import User
from app.core.clock import db_now
from app.extensions import db
from tests.support.admin import BASELINES, argument, new_staff

_made = itertools.count(1)


def add_term(app, term, category="违法违规", action="block", staff_id=None):
    """``term`` in the library through review.add_term (a new version, audited), by a staff member of role 审核: its
    id."""
    staff_id = staff_id or new_staff(app, "moderation").id
    with app.app_context():
        row = review.add_term(db.session.get(AdminStaff, staff_id), term=term, category=category, action=action,
                              now=db_now())
        db.session.commit()
        return row.id


def retire(app, term_id, reason="测试结束"):
    with app.app_context():
        term = db.session.get(ReviewTerm, term_id)
        if term.removed_in is None:
            staff = db.session.scalar(select(AdminStaff).where(AdminStaff.id == term.created_by_id))
            review.retire_term(staff, term, reason=reason, now=db_now())
            db.session.commit()


def new_user(app):
    with app.app_context():
        user = User(nickname=f"审核测试用户{next(_made)}", created_at=db_now())
        db.session.add(user)
        db.session.commit()
        return SimpleNamespace(id=user.id)


def events_of(app, user_id):
    """The user's review events, detached, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(ReviewEvent).where(ReviewEvent.user_id == user_id).order_by(ReviewEvent.id)).all()
        db.session.expunge_all()
        return rows


@pytest.fixture()
def library_term(app):
    """library_term("词", category=…, action=…) → its id: in the library for this test, retired after it."""
    made = []

    def make(term, **kwargs):
        made.append(add_term(app, term, **kwargs))
        return made[-1]
    yield make
    for term_id in made:
        retire(app, term_id)


@pytest.fixture()
def review_user(app):
    """A new user of the test's own (what check_input counts and restricts)."""
    return new_user(app)


def the_term(world):
    """The property test's term: a live mask term of its own (retiring it meets the checks behind the reason)."""
    return add_term(world.app, f"属性测试词条{next(_made)}", category="歧视", action="mask")


argument("term_id")(the_term)

BASELINES.update({
    "TermFilterForm": {"category": "违法违规", "action": "block", "state": "all", "q": "赌博"},
    "TermForm": {"term": "属性测试新词", "category": "歧视", "action": "mask"},
    "RetireTermForm": {"retire-reason": "误伤正常内容"},
    "EventFilterForm": {"stage": "input", "verdict": "blocked", "category": "违法违规"},
})
