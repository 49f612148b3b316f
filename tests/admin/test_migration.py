"""The migration indexes the mobile numbers saved before it (the account centre's, the latest applicant's), with
the app's keys; from then on the flush hook keeps the index."""
import json

from flask_migrate import upgrade
from sqlalchemy import select, text

from app import create_app
from app.admin.mobile_index import last4_hash
from app.admin.models import UserMobileIndex
from app.catalog.demo import seed_demo_catalog
from app.core.clock import today_local
from app.core.pii import encrypt
from app.extensions import db

BEFORE = "a8aa0d72ad2a"  # the revision before the back office's


def test_the_migration_indexes_the_numbers_already_saved(app, tmp_path):
    other = create_app({"TESTING": True, "SECRET_KEY": "migration-test", "DATA_KEY": app.config["DATA_KEY"],
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'before.db'}"})
    with other.app_context():
        upgrade(revision=BEFORE)
        seed_demo_catalog(today_local())  # a product for the application
        db.session.commit()
        with db.engine.begin() as connection:
            connection.execute(text('INSERT INTO "user" (id, status, nickname, avatar_url, sex, province, city, country, '
                                    'session_token, created_at, mobile, reminders_enabled, personalization_enabled, '
                                    'promotions_enabled) VALUES (1, \'active\', \'旧用户\', \'\', 0, \'\', \'\', \'\', '
                                    '\'tok-1\', \'2026-01-01 00:00:00\', :mobile, 1, 1, 1)'),
                               {"mobile": encrypt("13712340001")})
            connection.execute(text("INSERT INTO application (id, number, user_id, product_id, status, step, plan_code, "
                                    "frequency, data, created_at, updated_at) VALUES (1, 'WB1', 1, "
                                    "(SELECT min(id) FROM product), 'draft', 3, 'basic', 'annual', :data, "
                                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"),
                               {"data": encrypt(json.dumps({"applicant": {"mobile": "13712340002"}}))})
        upgrade()
        rows = {row.source: row.last4_hash for row in db.session.scalars(select(UserMobileIndex))}
        assert rows == {"contact": last4_hash("0001"), "applicant": last4_hash("0002")}
        db.session.remove()
        db.engine.dispose()
