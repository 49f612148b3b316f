"""The property test adds terms to 智能管家's review library through its form (whatever a hostile value leaves
valid, "0" say); they are retired (in a new library version) after each of its tests, so no later test's answer
meets them."""
import pytest
from sqlalchemy import func, select, update

from app.assistant import review
from app.assistant.models import ReviewLibraryVersion, ReviewTerm
from app.core.clock import db_now
from app.extensions import db


@pytest.fixture(autouse=True)
def review_library_kept(app):
    with app.app_context():
        before = db.session.scalar(select(func.max(ReviewTerm.id))) or 0
    yield
    with app.app_context():
        added = ReviewTerm.id > before, ReviewTerm.removed_in.is_(None)
        if db.session.scalar(select(func.count()).select_from(ReviewTerm).where(*added)):
            version = review.current_version() + 1
            db.session.add(ReviewLibraryVersion(version=version, summary="性质测试添加的词条已停用", changed_at=db_now()))
            db.session.execute(update(ReviewTerm).where(*added).values(removed_in=version))
            db.session.commit()
