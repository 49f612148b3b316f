"""Claims: a policy issued to a user and a claim on it, made directly (buying is tested in its folders, the
claim's own steps in tests/claims); the files a claimant uploads, made in memory (photos, PDFs).
Fixture: ``claimant``."""
import io
import json
import secrets
from datetime import timedelta
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from app.catalog.models import Product
from app.claims import checklist
from app.claims.models import Claim
from app.claims.services import new_number
from app.core.clock import db_now, today_local
from app.extensions import db
from app.orders.models import Order, Policy
from tests.support.identity import APPLICANT
from tests.support.purchase import MEDICAL


def issued_policy(app, user_id, slug=MEDICAL, *, insured=None, starts_on=None):
    """An issued policy of ``slug`` for the user, in force since 90 days ago (past any waiting period but the
    longest) for a year: its number. ``insured``: the insured's section (the applicant, by default)."""
    with app.app_context():
        now, today = db_now(), today_local()
        starts_on = starts_on or today - timedelta(days=90)
        product = db.session.scalar(select(Product).where(Product.slug == slug))
        plan = product.plans[0]
        digits = f"{secrets.randbelow(10**10):010d}"
        order = Order(number=f"DD{today:%Y%m%d}{digits}", idempotency_key=secrets.token_urlsafe(24), user_id=user_id,
                      product_id=product.id, plan_code=plan.code, frequency="annual", amount_fen=35600,
                      status="issued", created_at=now, expires_at=now + timedelta(minutes=30), paid_at=now)
        db.session.add(order)
        db.session.flush()
        applicant = {key: APPLICANT[key] for key in ("name", "id_number", "mobile")}
        details = {"applicant": applicant,
                   "insured": insured or {"relation": "self", "name": applicant["name"],
                                          "id_number": applicant["id_number"], "social_security": "yes"},
                   "beneficiaries": {"statutory": True, "people": []}}
        policy = Policy(number=f"P{today:%Y%m%d}{digits}", order_id=order.id, user_id=user_id, product_id=product.id,
                        plan_code=plan.code, frequency="annual", premium_fen=35600, status="active",
                        starts_on=starts_on, ends_on=starts_on + timedelta(days=364), issued_at=now,
                        data=json.dumps(details, ensure_ascii=False), terms=json.dumps({}))
        db.session.add(policy)
        db.session.commit()
        return policy.number


def new_claim(app, user_id, policy_number, *, status="draft", event_date=None, **values):
    """A claim on the policy, of its product's kind, in ``status`` (one draft per policy): its number."""
    with app.app_context():
        now, today = db_now(), today_local()
        policy = db.session.scalar(select(Policy).where(Policy.number == policy_number))
        claim = Claim(number=new_number(today), user_id=user_id, policy_id=policy.id,
                      kind=checklist.kind_of(policy.product), status=status,
                      event_date=event_date or today - timedelta(days=3), created_at=now, updated_at=now,
                      submitted_at=None if status == "draft" else now,
                      **{"decision_due_at": None if status == "draft" else now + timedelta(days=30), **values})
        db.session.add(claim)
        db.session.commit()
        return claim.number


def claim_row(number):
    """The claim, in the app context the caller has."""
    return db.session.scalar(select(Claim).where(Claim.number == number))


@pytest.fixture()
def claimant(app, member):
    """A signed-in user with an issued policy and a draft claim on it: client, id, policy and claim (numbers)."""
    def make(slug=MEDICAL, nickname="理赔用户"):
        user = member(nickname)
        policy = issued_policy(app, user.id, slug)
        return SimpleNamespace(client=user.client, id=user.id, policy=policy, claim=new_claim(app, user.id, policy))
    return make


# Files, as a phone or a scanner makes them


def page_image(size=(1240, 1754), mode="RGB"):
    """A page with lines of "text": a document worth reading."""
    image = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(image)
    for top in range(size[1] // 10, size[1] * 9 // 10, max(size[1] // 30, 12)):
        draw.rectangle([size[0] // 10, top, size[0] * 9 // 10, top + max(size[1] // 120, 3)], fill="black")
    return image


def encoded(image, fmt="JPEG", **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def photo(size=(1240, 1754), fmt="JPEG", **options):
    """A photo of a page: JPEG by default, PNG, or HEIF (a HEIC from an iPhone)."""
    return encoded(page_image(size), fmt, **options)


def unique_photo(size=(1240, 1754)):
    """A photo no other test's claim holds (the same file in two claims is flagged by 预审): a page whose last
    line is a random pattern."""
    image = page_image(size)
    draw = ImageDraw.Draw(image)
    for i, bit in enumerate(f"{secrets.randbits(48):048b}"):
        if bit == "1":
            draw.rectangle([size[0] // 10 + i * 12, size[1] - 80, size[0] // 10 + i * 12 + 8, size[1] - 60], fill="black")
    return encoded(image)
