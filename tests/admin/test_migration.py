"""The migration indexes the mobile numbers saved before it (the account centre's, the latest applicant's), with
the app's keys; from then on the flush hook keeps the index."""
import json

from flask_migrate import upgrade
from sqlalchemy import select, text

from app.admin.mobile_index import last4_hash
from app.admin.models import UserMobileIndex
from app.core.pii import encrypt
from app.extensions import db
from tests.support.migration import APPLICATION, USER, old_app, old_catalog

BEFORE = "a8aa0d72ad2a"  # the revision before the back office's


def test_the_migration_indexes_the_numbers_already_saved(app, tmp_path):
    other = old_app(app, tmp_path / "before.db")
    with other.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            old_catalog(connection)  # a product for the application
            connection.execute(text(USER), {"mobile": encrypt("13712340001")})
            connection.execute(text(APPLICATION),
                               {"data": encrypt(json.dumps({"applicant": {"mobile": "13712340002"}}))})
        upgrade()
        rows = {row.source: row.last4_hash for row in db.session.scalars(select(UserMobileIndex))}
        assert rows == {"contact": last4_hash("0001"), "applicant": last4_hash("0002")}
        db.session.remove()
        db.engine.dispose()
