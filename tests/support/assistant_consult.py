"""Tests of 智能管家: online consultation (fixtures, route-argument makers for the property test). A
consultation is made directly on a user of its own (the user's steps are tested in tests/assistant), with a
conversation with 智能管家 behind it when asked. Fixtures: ``consultation``, ``conversation_of``."""
import secrets

import pytest

from app.assistant.models import AssistantMessage, CannedReply, Consultation, ConsultMessage, Conversation
from app.auth.models import User
from app.core.clock import db_now
from app.extensions import db
from tests.support import hostile
from tests.support.admin import BASELINES, argument, new_staff


def new_conversation(app, user_id, question="30岁买安心百万医疗多少钱？我的手机是138****8000"):
    """A conversation with 智能管家 of the user's (one question, one answer): its public_id."""
    with app.app_context():
        now = db_now()
        conversation = Conversation(public_id=secrets.token_urlsafe(12), user_id=user_id, title=question,
                                    created_at=now, updated_at=now)
        conversation.messages = [
            AssistantMessage(role="user", content=question, created_at=now),
            AssistantMessage(role="assistant", content="30岁有社保的年保费为 **¥356.00**。", engine="embedded",
                             created_at=now)]
        db.session.add(conversation)
        db.session.commit()
        return conversation.public_id


def new_consultation(app, user_id=None, *, status="waiting", staff_id=None, text="请问理赔需要多久？",
                     conversation=None, **values):
    """A consultation of ``user_id``'s (a new user's when None) in ``status``, with the user's first message: its
    public_id."""
    with app.app_context():
        if user_id is None:
            user = User(nickname="咨询测试用户", created_at=db_now())
            db.session.add(user)
            db.session.flush()
            user_id = user.id
        now = db_now()
        conversation_id = db.session.scalar(db.select(Conversation.id).where(Conversation.public_id == conversation)) \
            if conversation else None
        consultation = Consultation(public_id=secrets.token_urlsafe(18), user_id=user_id, status=status,
                                    staff_id=staff_id, created_at=now, updated_at=now, user_seen_at=now,
                                    conversation_id=conversation_id, closed_at=now if status == "closed" else None,
                                    **values)
        consultation.messages = [ConsultMessage(sender="user", content=text, created_at=now)]
        db.session.add(consultation)
        db.session.commit()
        return consultation.public_id


def consultation_row(app, public_id):
    """The consultation, detached, with its messages loaded."""
    with app.app_context():
        consultation = db.session.scalar(db.select(Consultation).where(Consultation.public_id == public_id))
        _ = list(consultation.messages)
        db.session.expunge_all()
        return consultation


def new_canned(app, title=None, body="您好，理赔材料齐全后保险公司会在30日内核定。"):
    with app.app_context():
        row = CannedReply(title=title or f"理赔时效{secrets.token_hex(3)}", body=body, created_at=db_now())
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture()
def consultation(app):
    """consultation(user_id=None, status="waiting", staff_id=…, conversation=<public_id>) → its public_id."""
    return lambda user_id=None, **kwargs: new_consultation(app, user_id, **kwargs)


@pytest.fixture()
def conversation_of(app):
    """conversation_of(user_id) → the public_id of a conversation with 智能管家 of theirs."""
    return lambda user_id, **kwargs: new_conversation(app, user_id, **kwargs)


def _taken(world):
    """The property test's consultation: open, held by a support member, so each action meets its checks (the
    actor holding every role is not the one holding it: reply, transfer and close are refused on their field or
    as the page's message)."""
    if getattr(world, "admin_consultation", None) is None:
        holder = new_staff(world.app, "support")
        world.admin_consultation = new_consultation(world.app, status="open", staff_id=holder.id)
    return world.admin_consultation


def _own(world, rule):
    """A user's page of their own consultation (open, so a message is taken; the rating's checks run first)."""
    owner = world.customer()
    return hostile.Context(owner.client, {"consult_id": new_consultation(world.app, owner.id, status="open")},
                           owner.csrf)


hostile.USER_ROUTES["/consult/"] = _own
argument("consult_id")(_taken)
argument("reply_id")(lambda world: new_canned(world.app))

BASELINES.update({
    "ConsultStartForm": {"content": "想咨询一下续保的问题"},
    "ConsultMessageForm": {"content": "好的，谢谢"},
    "ConsultRatingForm": {"rating": "5", "comment": "回复很及时"},
    "ConsultReplyForm": {"content": "您好，请问还有什么可以帮您？"},
    "ConsultTransferForm": {"to": ""},
    "CannedReplyForm": {"title": "问候", "body": "您好，很高兴为您服务。"},
})
