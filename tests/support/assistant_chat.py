"""Tests of 智能管家: the assistant's pages (fixtures, route-argument makers for the property test).

``scripted`` puts an engine that says what the test wrote in place of the app's (its calls counted);
``post_question`` posts a question as the page's form does, ``messages_of`` reads a conversation back."""
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.assistant import chat
from app.assistant.engines import Answer, Event, Passage
from app.assistant.models import AssistantMessage, Conversation
from app.extensions import db
from tests.support import hostile
from tests.support.admin import BASELINES
from tests.support.hostile import Context
from tests.support.web import HX, token

CLAUSE = Passage(id="doc:anxin-million-medical:terms:3", kind="document", product="anxin-million-medical",
                 title="《安心百万医疗 保险条款》第三条", url="/documents/terms?product=anxin-million-medical#s3",
                 text="等待期为30天。")


class ScriptedEngine:
    """Streams ``chunks`` (events as they are: "text" strings, None for a reset), then the answer citing
    ``citations``; counts its calls."""
    name = "embedded"

    def __init__(self):
        self.calls, self.sent = 0, 0  # sent: how many chunks the last stream has given so far
        self.script(["安心百万医疗的等待期为", "30天。"], citations=[CLAUSE])

    def script(self, chunks, *, citations=(), refused=False, fail=False):
        self.chunks, self.citations, self.refused, self.fail = list(chunks), list(citations), refused, fail

    def stream(self, question, *, product=None, history=()):
        self.calls += 1
        self.question, self.product, self.history = question, getattr(product, "slug", None), history
        text = []
        for self.sent, chunk in enumerate(self.chunks, 1):
            if chunk is None:
                text.clear()
                yield Event("reset", None)
            else:
                text.append(chunk)
                yield Event("text", chunk)
        if self.fail:
            raise TimeoutError("the model went quiet")
        yield Event("done", Answer(text="".join(text), citations=self.citations, refused=self.refused))


@pytest.fixture()
def scripted(monkeypatch):
    engine = ScriptedEngine()
    monkeypatch.setattr(chat, "engine_for", lambda app: engine)
    return engine


def post_question(client, question, *, path="/assistant", htmx=False, **fields):
    """POST a question (on the page at ``path``: the new-conversation page or a conversation)."""
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": token(page), "question": question, **fields},
                       headers=HX if htmx else {})


def conversation_path(response):
    """/assistant/c/<public_id> from the redirect after a question (a 302, or htmx's HX-Redirect)."""
    location = response.headers.get("HX-Redirect") or response.headers["Location"]
    return re.search(r"/assistant/c/[\w-]+", location).group()


def messages_of(app, public_id):
    with app.app_context():
        conversation = db.session.scalar(select(Conversation).where(Conversation.public_id == public_id))
        return [SimpleNamespace(id=m.id, role=m.role, content=m.content, status=m.status, verdict=m.verdict,
                                produce_id=m.produce_id, rating=m.rating, rating_reason=m.rating_reason,
                                engine=m.engine, sources=m.sources)
                for m in db.session.scalars(select(AssistantMessage).where(
                    AssistantMessage.conversation_id == conversation.id).order_by(AssistantMessage.id))]



# The property test (tests/core/test_hostile_input.py): a conversation of the world's customer with one answer,
# for the routes under /assistant (the quota out of the way); its forms' valid values.

def assistant_context(world, rule):
    """A Context for ``rule``: a customer with a conversation of one answered question (and a generous quota, for
    the examples the property test sends)."""
    world.request.getfixturevalue("monkeypatch").setitem(world.app.config, "ASSISTANT_DAILY_QUOTA", 100000)
    owner = world.customer()
    if not rule.arguments:
        return Context(owner.client, {}, owner.csrf)
    path = conversation_path(post_question(owner.client, "安心百万医疗的等待期多久？"))
    public_id = path.rsplit("/", 1)[1]
    answer = messages_of(world.app, public_id)[1]
    values = {"public_id": public_id, "message_id": answer.id, "kind": "md"}
    return Context(owner.client, {name: values[name] for name in rule.arguments}, owner.csrf)


hostile.USER_ROUTES["/assistant"] = assistant_context
BASELINES.update({"AskForm": {"question": "安心百万医疗的等待期多久？"}, "RatingForm": {"rating": "1", "reason": "说得清楚"}})
