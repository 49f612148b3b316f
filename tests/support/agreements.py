"""The acceptance step (our agreements, before anything personal): its form, submitting it, finding it over
a page, the consent rows it writes. Fixture: ``customer``, a signed-in adult who has accepted."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from app.agreements.models import Consent
from app.extensions import db


def gate_form(html):
    """The acceptance form's hidden fields (prefixed gate-) and the versions it offers."""
    fields = {name: value for name, value in re.findall(
        r'<input[^>]*name="(gate-csrf_token|gate-original|gate-submission)"[^>]*value="([^"]*)"', html)}
    fields["gate-original"] = fields.get("gate-original", "").replace("&#34;", '"').replace("&quot;", '"')
    versions = re.findall(r'name="gate-agreements" value="(\d+)"', html)
    return fields, versions


def accept(client, html, versions=None, birth_date="1990-05-01", **headers):
    """Submit the step as the browser would, every offered box ticked unless ``versions`` says."""
    fields, offered = gate_form(html)
    data = {**fields, "gate-agreements": offered if versions is None else versions}
    if birth_date is not None:
        data["gate-birth_date"] = birth_date
    return client.post("/agreements/accept", data=data, headers=headers)


def step_on(client, path):
    """The acceptance step a page shows over itself (an htmx modal, or a <noscript> refresh to the full
    page), or None when the user owes nothing."""
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    step = re.search(r'hx-get="(/agreements/accept\?next=[^"]*)" hx-trigger="load"', html)
    if step is None:
        return None
    assert f'<meta http-equiv="refresh" content="0; url={step.group(1)}">' in html
    return step.group(1).replace("&amp;", "&")


def rows(app, user_id):
    with app.app_context():
        return db.session.scalars(select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)).all()


def accepted_user(member, nickname="另一位用户"):
    """A new signed-in user who has accepted, giving a birth date (1988) at the step."""
    user = member(nickname=nickname)
    accept(user.client, user.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date="1988-08-08")
    return user


@pytest.fixture()
def customer(member):
    """A signed-in adult who has accepted the agreements."""
    m = member(birth_date=date(1990, 5, 1))
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date=None)
    return m
