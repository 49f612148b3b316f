"""智能管家's 👍/👎 are visible to 运营 and 审核 in the back office, with the reason and the question (masked as it
is stored); nobody else opens them."""
import pytest

from app.admin.roles import ROLES
from app.assistant.models import AssistantMessage, Conversation
from app.core.clock import db_now
from app.extensions import db


@pytest.fixture()
def rated(app, member):
    someone = member()
    with app.app_context():
        now = db_now()
        conversation = Conversation(public_id=f"fb-{someone.id}", user_id=someone.id, title="等待期", created_at=now,
                                    updated_at=now)
        conversation.messages = [
            AssistantMessage(role="user", content="身份证110***********1234的等待期多久", created_at=now),
            AssistantMessage(role="assistant", content="等待期为30天[1]。", engine="embedded", created_at=now,
                             produce_id=f"fb-{someone.id}-1", rating=-1, rating_reason="没说意外有没有等待期",
                             rated_at=now)]
        db.session.add(conversation)
        db.session.commit()


def test_operators_read_the_rated_answers_with_their_reasons(app, signed_in, rated):
    ops, _ = signed_in("ops")
    page = ops.client.get("/admin/assistant/feedback").get_data(as_text=True)
    assert "👎 没帮助" in page and "没说意外有没有等待期" in page and "身份证110***********1234的等待期多久" in page
    assert "没说意外有没有等待期" not in ops.client.get("/admin/assistant/feedback?rating=up").get_data(as_text=True)


@pytest.mark.parametrize("role", [code for code, role in ROLES.items() if "assistant.feedback" not in role.permissions])
def test_other_roles_are_refused(app, signed_in, role):
    browser, _ = signed_in(role)
    assert browser.client.get("/admin/assistant/feedback").status_code == 403
