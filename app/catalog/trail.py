"""The browsing trail and the recommendations made from it, only while the user has 个性化推荐 on:
product views and searches (as the products they found, never the words), kept 90 days.

Flushes at most; the view (or the prune job) commits.
"""
from collections import Counter
from datetime import timedelta

from sqlalchemy import delete, select

from app.catalog.models import BrowsingEvent, Product
from app.catalog.services import listing_query
from app.extensions import db

TRAIL_DAYS = 90
RECOMMENDED = 3  # one row of product cards
SEARCH_RESULTS_KEPT = 3


def record(user, product_ids, kind, now):
    """Adds to the trail of a signed-in user who has 个性化推荐 on; nothing otherwise. Returns rows added."""
    if not (user.is_authenticated and user.personalization_enabled and product_ids):
        return 0
    db.session.add_all(BrowsingEvent(user_id=user.id, product_id=pid, kind=kind, at=now) for pid in product_ids)
    return len(product_ids)


def forget(user_id):
    return db.session.execute(delete(BrowsingEvent).where(BrowsingEvent.user_id == user_id)).rowcount


def prune(now):
    """`flask trail prune` (cron, daily): the trail older than 90 days."""
    return db.session.execute(delete(BrowsingEvent).where(BrowsingEvent.at < now - timedelta(days=TRAIL_DAYS))).rowcount


def recommendations(user, now):
    """(personal?, products): 为你推荐 from the trail while 个性化推荐 is on (the best sellers of the user's
    two most-browsed categories, ones not seen yet first); otherwise, or before there is a trail, the
    non-personal ranking (best sellers overall)."""
    if user.is_authenticated and user.personalization_enabled:
        rows = db.session.execute(
            select(BrowsingEvent.product_id, Product.category_id).join(Product, Product.id == BrowsingEvent.product_id)
            .where(BrowsingEvent.user_id == user.id, BrowsingEvent.at >= now - timedelta(days=TRAIL_DAYS))).all()
        if rows:
            seen = {row.product_id for row in rows}
            favourite = [category for category, _ in Counter(row.category_id for row in rows).most_common(2)]
            stmt = (listing_query().where(Product.category_id.in_(favourite))
                    .order_by(Product.id.in_(seen), Product.sales_count.desc(), Product.id).limit(RECOMMENDED))
            return True, db.session.scalars(stmt).all()
    stmt = listing_query().order_by(Product.sales_count.desc(), Product.id).limit(RECOMMENDED)
    return False, db.session.scalars(stmt).all()
