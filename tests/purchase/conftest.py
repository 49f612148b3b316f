# The fake WeChat serves the template-message API for the reminder tests.
from datetime import date

import pytest

from tests.agreements.test_gate import accept
from tests.auth.conftest import fake_wechat, wechat  # noqa: F401


@pytest.fixture()
def customer(member):
    """A signed-in adult who has accepted the agreements."""
    m = member(birth_date=date(1990, 5, 1))
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date=None)
    return m
