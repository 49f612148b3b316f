"""What the claims team's screens (理赔) need in tests: a claim in any state of the queue, made directly on a policy
of a user's of its own (tests/support/claims.py makes both: the claimant's steps are tested in tests/claims),
documents on it stored as an upload stores them, route arguments for the property test and its form baselines.
Fixtures: ``queued``, ``claim_document``."""
import json
from datetime import timedelta

import pytest

from app.auth.models import User
from app.claims import clock, documents
from app.claims.models import Claim, ClaimEvent
from app.core.clock import db_now
from app.extensions import db
from tests.support.admin import BASELINES, argument, new_staff
from tests.support.claims import claim_row, issued_policy, new_claim, photo


def queued_claim(app, status="submitted", *, handler_id=None, due_in=timedelta(days=clock.DECISION_DAYS),
                 amount_claimed_fen=800000, decision=None, approved_fen=None, requested=(), **values):
    """A claim of a new user's (a 医疗 policy of their own) in ``status``, its deadline ``due_in`` from the clock's
    now: submitted, reviewing (by ``handler_id``), awaiting_supplement (asked for ``requested``; paused with
    ``due_in`` left), or closed with ``decision`` (agreed: payment due in ``due_in``). Its number."""
    with app.app_context():
        user = User(nickname="理赔测试用户", created_at=db_now())
        db.session.add(user)
        db.session.commit()
        user_id, now = user.id, db_now()
    policy = issued_policy(app, user_id)
    timing = {"decision_due_at": now + due_in}
    if status == "awaiting_supplement":
        timing["paused_since"] = now
    if status == "closed":
        timing = {"decision_due_at": now - timedelta(days=1), "decided_at": now, "decided_by_id": handler_id,
                  "payout_due_at": now + due_in if decision in ("approved", "partial") else None}
    number = new_claim(app, user_id, policy, status=status, handler_id=handler_id, amount_claimed_fen=amount_claimed_fen,
                       decision=decision, approved_fen=approved_fen, requested=json.dumps(list(requested)),
                       data=json.dumps({"description": "骑车摔倒，右手骨折，住院治疗5天。",
                                        "payee": {"method": "bank", "bank": "招商银行", "account": "6225880123456789"}},
                                       ensure_ascii=False),
                       **timing, **values)
    with app.app_context():
        claim = claim_row(number)
        db.session.add(ClaimEvent(claim_id=claim.id, at=now, status="submitted", actor="user",
                                  note="理赔申请已提交，平台已转交保险公司审核"))
        db.session.commit()
    return number


def stored_document(app, number, item="invoice", content=None, name="发票.jpg", supplement=False):
    """A document on the claim, accepted and stored as an upload is (``supplement``: one asked for): its token."""
    with app.app_context():
        claim = claim_row(number)
        accepted = documents.accept(content or photo(), name)
        document = documents.store(claim, item, accepted, original_name=name, source="desktop", now=db_now(),
                                   supplement=supplement)
        db.session.commit()
        return document.token


def text_pdf(text="Diagnosis certificate"):
    """A one-page PDF of plain text, every byte ASCII (so a test that reads any response as text can read it)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def claim_state(app, number):
    """The claim's row, detached (status, decision, amounts, handler, clock fields)."""
    with app.app_context():
        claim = db.session.get(Claim, claim_row(number).id)
        db.session.expunge(claim)
        return claim


@pytest.fixture()
def queued(app):
    """queued(status, handler_id=…, due_in=timedelta, decision=…, approved_fen=…, requested=[…]) → a claim number."""
    return lambda status="submitted", **kwargs: queued_claim(app, status, **kwargs)


@pytest.fixture()
def claim_document(app):
    """claim_document(number, item="invoice", content=bytes, name=…, supplement=False) → the stored document's token."""
    return lambda number, **kwargs: stored_document(app, number, **kwargs)


def the_claim(world):
    """The property test's claim: one a world, being handled (so each action meets its checks), with a document
    (so ``token`` is one of its own: a PDF of plain text, which the role table reads as text like any page)."""
    if getattr(world, "admin_claim", None) is None:
        handler = new_staff(world.app, "claims")
        world.admin_claim = queued_claim(world.app, "reviewing", handler_id=handler.id)
        world.admin_claim_token = stored_document(world.app, world.admin_claim, item="diagnosis", content=text_pdf(),
                                            name="诊断证明.pdf")
    return world.admin_claim


argument("number")(the_claim)
argument("token")(lambda world: the_claim(world) and world.admin_claim_token)

BASELINES.update({
    "ClaimQueueForm": {"status": "reviewing", "who": "mine", "overdue": "y", "number": "LP2026"},
    "SupplementForm": {"supplement-items": "other", "supplement-note": "请补充住院押金收据"},
    "DecisionForm": {"decision-decision": "partial", "decision-approved": "1000.00", "decision-reason_code": "exclusion",
                     "decision-reason_text": "自费药品不在保障范围", "decision-clause": "《条款》第七条"},
    "PayForm": {"pay-method": "bank"},
    "ChecklistForm": {"items": "invoice"},
})
