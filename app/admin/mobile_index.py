"""The last four digits of users' mobile numbers, as keyed hashes (UserMobileIndex).

Mobile numbers are encrypted, so "尾号 8000, 张三" cannot be a WHERE clause. The index narrows the search
to the users with those last four digits (about one in ten thousand), and only their names are decrypted
and compared. The hash is keyed (DATA_KEY), so the index alone does not give the 10,000 possible values away.

Kept up to date in one place, a flush hook, rather than in every service that saves a number: the
account centre's contact number (User.mobile) and an application's applicant (Application.data), and a
deleted account (注销) leaves nothing behind.
"""
import json
import re

from sqlalchemy import delete, event, inspect
from sqlalchemy.orm import Session

from app.admin.models import UserMobileIndex
from app.auth.models import User
from app.core.pii import keyed_hash
from app.purchase.models import Application

_DIGITS = re.compile(r"\d")


def last4_hash(last4):
    """The index value of four digits (domain-separated from the site's other keyed hashes)."""
    return keyed_hash("mobile-last4:" + last4)


def last4_of(mobile):
    """The last four digits of a number as typed (+86 138-0013-8000 included); None without four digits."""
    digits = "".join(_DIGITS.findall(mobile or ""))
    return digits[-4:] if len(digits) >= 4 else None


def _applicant_mobile(data):
    try:
        return (json.loads(data or "{}").get("applicant") or {}).get("mobile")
    except (TypeError, ValueError, AttributeError):
        return None


def _changed(obj, attribute, read=lambda value: value):
    """Whether the attribute now reads differently from what was loaded (as ``read`` sees it)."""
    history = inspect(obj).attrs[attribute].history
    if not history.has_changes():
        return False
    return not history.deleted or read(history.deleted[0]) != read(getattr(obj, attribute))


def _set(session, source, mobile, *, user=None, user_id=None):
    """Replace the user's entry of this source (none when the number is gone). A user created in this
    flush has no id yet: the entry names the object, and the unit of work inserts the user first."""
    user_id = user.id if user is not None else user_id
    if user_id is not None:
        session.execute(delete(UserMobileIndex).where(UserMobileIndex.user_id == user_id,
                                                      UserMobileIndex.source == source))
    last4 = last4_of(mobile)
    if last4 is not None:
        entry = UserMobileIndex(source=source, last4_hash=last4_hash(last4))
        if user_id is not None:
            entry.user_id = user_id
        else:
            entry.user = user
        session.add(entry)


@event.listens_for(Session, "before_flush")
def _index_mobiles(session, _context, _instances):
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, User):
            if obj.status == "deleted" and obj.id is not None:
                session.execute(delete(UserMobileIndex).where(UserMobileIndex.user_id == obj.id))
            elif obj in session.new or _changed(obj, "mobile"):
                _set(session, "contact", obj.mobile, user=obj)
        elif isinstance(obj, Application) and (obj in session.new or _changed(obj, "data", _applicant_mobile)):
            mobile = _applicant_mobile(obj.data)
            if mobile and obj.user_id is not None:
                _set(session, "applicant", mobile, user_id=obj.user_id)
