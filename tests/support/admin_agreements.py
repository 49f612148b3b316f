"""What the back office's screens for agreement versions need in tests: route arguments for the property test
(``tests.support.admin.argument``), its form baselines, and fixtures: an agreement of a test's own (a product's
that no user is ever asked to accept, so its versions reach no one), and versions drafted in it through the
service, as the screens write them (audit rows included)."""
import secrets
from datetime import timedelta

import pytest

from app.admin.models import AdminStaff
from app.agreements import versions
from app.agreements.models import Agreement
from app.core.clock import db_now, today_local
from app.extensions import db
from tests.support.admin import BASELINES, argument, new_staff
from tests.support.clock import NOW

BODY = "## 一、总则\n\n本协议适用于测试产品。\n\n**在法律允许的范围内，我们对因不可抗力造成的损失不承担责任。**\n"


def new_agreement(app, title="测试产品服务协议"):
    """A product's agreement, the product being none that exists: required of no user, whatever is published."""
    ref = secrets.token_hex(6)
    with app.app_context():
        agreement = Agreement(kind=f"test-{ref}", title=title, scope="product", scope_ref=f"no-such-product-{ref}")
        db.session.add(agreement)
        db.session.commit()
        return agreement.id


def new_version(app, agreement_id, preparer_id, *, label="2.0", released_in=5, effective_in=10, summary="测试更新",
                body=BODY, submitted=False):
    """A draft (or, ``submitted``, one awaiting approval) written by ``preparer_id``, dated from today; its id."""
    with app.app_context():
        staff, today, now = db.session.get(AdminStaff, preparer_id), today_local(), db_now()
        version = versions.create_draft(
            db.session.get(Agreement, agreement_id), staff, version=label,
            released_on=today + timedelta(days=released_in), effective_on=today + timedelta(days=effective_in),
            summary=summary, body=body, today=today, now=now, ip="127.0.0.1")
        if submitted:
            versions.submit(version, staff, today=today, now=now, ip="127.0.0.1")
        db.session.commit()
        return version.id


@pytest.fixture()
def own_agreement(app):
    """A new agreement of a test's own: own_agreement(title=…) → its id."""
    return lambda **kwargs: new_agreement(app, **kwargs)


@pytest.fixture()
def drafted(app):
    """drafted(agreement_id, staff, label=…, released_in=days, effective_in=days, submitted=False) → a version id."""
    return lambda agreement_id, staff, **kwargs: new_version(app, agreement_id, staff.id, **kwargs)


argument("agreement_id")(lambda world: new_agreement(world.app))
argument("version_id")(lambda world: new_version(world.app, new_agreement(world.app),
                                                 new_staff(world.app, "compliance").id))

_day = NOW.date()
# The property test forbids line breaks in anything stored, so its valid body is one line (a text of several is
# what the screens are for: tests/admin/test_agreements_admin.py).
BASELINES.update({
    "VersionForm": {"version": "9.1", "released_on": (_day + timedelta(days=6)).isoformat(),
                    "effective_on": (_day + timedelta(days=20)).isoformat(), "summary": "调整了第一条",
                    "body": "## 一、总则 **因不可抗力造成的损失不承担责任。**"},
    "ApproveForm": {"approve-reason": "核对无误"},
    "ReturnForm": {"return-reason": "生效日期需要调整"},
})
