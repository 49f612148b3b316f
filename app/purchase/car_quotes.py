"""The signed-in user's last car quote, kept like an application breakpoint: encrypted, deleted with
the others when reminders are switched off, purged after 30 days.

Flushes at most; the view commits.
"""
import json

from sqlalchemy import select

from app.extensions import db
from app.purchase.models import SavedCarQuote

FIELDS = ("plate", "vin", "engine_no", "owner_name", "owner_id", "first_registration", "seats", "usage",
          "displacement", "purchase_price", "claims", "third_party", "damage", "passengers")


def save(user, values, now):
    """Keep what was entered: the quote's own fields (never the CSRF token), as form data again, for the
    form to read when the user comes back (CarQuoteForm.saved_values)."""
    data = json.dumps({key: values[key] for key in FIELDS if key in values}, ensure_ascii=False)
    row = db.session.scalar(select(SavedCarQuote).where(SavedCarQuote.user_id == user.id))
    if row is None:
        db.session.add(SavedCarQuote(user_id=user.id, data=data, updated_at=now))
    else:
        row.data, row.updated_at = data, now


def load(user):
    row = db.session.scalar(select(SavedCarQuote).where(SavedCarQuote.user_id == user.id))
    return json.loads(row.data) if row else None
