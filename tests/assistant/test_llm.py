"""智能管家's large model against the fake OpenAI-compatible server: what it is asked, the answer shown with its
citations, and every way it fails falling back to the embedded engine's answer, saying so."""
import re
import socket

import openai
import pytest

from app.assistant.embedded import EmbeddedEngine
from app.assistant.engines import Answer, Event, Passage
from app.assistant.llm import NOTE, REFUSAL, SYSTEM_PROMPT, LLMEngine, ModelFailed, check, choose_engine
from tests.support.agreements import accepted_user
from tests.support.assistant_chat import conversation_path, messages_of, post_question
from tests.support.assistant_llm import API_KEY, MODEL, RUNAWAY_CHUNKS

PASSAGES = [
    Passage(id="fact:anxin-medical:waiting", kind="product", product="anxin-medical",
            title="《安心百万医疗2026》投保规则 · 等待期", url="/products/anxin-medical#facts-title",
            text="安心百万医疗2026的等待期为30天，等待期内发生的保险事故不承担保险责任。"),
    Passage(id="fact:anxin-medical:renewal", kind="product", product="anxin-medical",
            title="《安心百万医疗2026》投保规则 · 续保", url="/products/anxin-medical#facts-title",
            text="安心百万医疗2026的续保规则：保证续保6年，期间无需重新审核健康状况。"),
    Passage(id="doc:anxin-medical:terms:3", kind="document", product="anxin-medical",
            title="《安心百万医疗2026 保险条款》第三条 等待期", url="/products/anxin-medical/documents/terms#s3",
            text="因意外伤害住院的，无等待期。"),
]
QUESTION = "安心百万医疗的等待期是多久？"
EMBEDDED_TEXT = "安心百万医疗2026的等待期为30天，等待期内发生的保险事故不承担保险责任。[1]"


class Embedded:
    """Stands in for the embedded engine: one answer, given in chunks; counts how often it was asked."""
    name = "embedded"

    def __init__(self, answer=None):
        self.answer = answer or Answer(text=EMBEDDED_TEXT, citations=PASSAGES[:1])
        self.calls = 0

    def stream(self, question, *, product=None, history=()):
        self.calls += 1
        for start in range(0, len(self.answer.text), 4):
            yield Event("text", self.answer.text[start:start + 4])
        yield Event("done", self.answer)


@pytest.fixture()
def embedded():
    return Embedded()


@pytest.fixture()
def engine(app, llm, embedded):
    return LLMEngine(app.config, retrieve=lambda question, product: PASSAGES, fallback=embedded)


def shown(events):
    """What the page shows at the end: the text events, each reset clearing what came before."""
    text = ""
    for event in events:
        if event.kind == "reset":
            text = ""
        elif event.kind == "text":
            text += event.value
    return text


def test_the_model_is_asked_with_the_passages_its_name_and_the_key(engine, llm):
    list(engine.stream(QUESTION, history=[("user", "安心百万医疗是哪家公司的？"),
                                          ("assistant", "由安心保险承保[1]。")]))
    [asked] = llm.requests
    assert asked["headers"]["Authorization"] == f"Bearer {API_KEY}"
    body = asked["body"]
    assert body["model"] == MODEL and body["stream"] is True
    system, *turns, user = body["messages"]
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    # Earlier turns go along without their markers (those numbers meant other passages).
    assert turns == [{"role": "user", "content": "安心百万医疗是哪家公司的？"},
                     {"role": "assistant", "content": "由安心保险承保。"}]
    for number, passage in enumerate(PASSAGES, 1):
        assert f"[{number}] {passage.title}\n{passage.text}" in user["content"]
    assert user["content"].endswith(f"问题：{QUESTION}")


def test_the_answer_streams_with_the_passages_it_cites(engine, llm, embedded):
    events = list(engine.stream(QUESTION))
    kinds = [event.kind for event in events]
    assert kinds[-1] == "done" and kinds.count("text") > 1 and "reset" not in kinds
    answer = events[-1].value
    assert answer.text == shown(events) == "安心百万医疗的等待期为30天[1]。因意外住院不受等待期限制[1]。"
    assert answer.engine == "llm" and answer.note == "" and not answer.refused
    assert answer.citations == PASSAGES[:1]
    assert len(llm.requests) == 1 and embedded.calls == 1  # its answer waited, unused


def test_citations_are_numbered_in_the_order_cited(engine, llm):
    llm.mode = "renumber"
    answer = list(engine.stream(QUESTION))[-1].value
    assert answer.text == "等待期为30天[1]。续保需重新审核[2]，保证续保期间[1]内不用。"
    assert answer.citations == [PASSAGES[2], PASSAGES[0]]


def test_a_question_the_passages_do_not_answer_is_refused(engine, llm):
    llm.mode = "refuse"
    events = list(engine.stream("安心百万医疗能报销牙齿美白吗？"))
    answer = events[-1].value
    assert answer.refused and answer.engine == "llm" and answer.citations == []
    assert shown(events) == answer.text == REFUSAL and "转人工" in REFUSAL


# mode → whether some of the model's answer was shown before it failed (then withdrawn by a reset)
FAILURES = {
    "slow": False,  # silent past LLM_TIMEOUT_SECONDS before the first token
    "stall": True,  # silent past it in the middle
    "cut": True,  # the stream ends without a finish reason
    "429": False,
    "500": False,
    "malformed": True,
    "script": True,
    "link": True,
    "prompt": False,
    "cite9": False,  # only three passages were given
    "uncited": False,
    "empty": False,
}


@pytest.mark.parametrize("mode", FAILURES)
def test_a_failing_model_gives_way_to_the_embedded_engine_saying_so(engine, llm, embedded, mode):
    llm.mode = mode
    events = list(engine.stream(QUESTION))
    answer = events[-1].value
    assert answer.engine == "fallback" and answer.note == NOTE == "大模型暂时不可用，以下为内置检索的回答"
    assert answer.text == shown(events) == EMBEDDED_TEXT and answer.citations == PASSAGES[:1]
    kinds = [event.kind for event in events]
    assert ("reset" in kinds) is FAILURES[mode]
    if FAILURES[mode]:  # the model's text came before the reset, the embedded engine's after
        assert "".join(e.value for e in events[:kinds.index("reset")] if e.kind == "text").startswith("安心百万医疗2026")
    sent = "".join(event.value for event in events if event.kind == "text")
    assert not any(bad in sent for bad in ("<scr", "evil", "系统提示", "[9]", "alert"))
    assert len(llm.requests) == 1 and embedded.calls == 1  # no second generation, no second answer


def test_an_answer_past_llm_max_seconds_gives_way(app, llm, embedded, monkeypatch):
    monkeypatch.setitem(app.config, "LLM_TIMEOUT_SECONDS", 30)
    monkeypatch.setitem(app.config, "LLM_MAX_SECONDS", 10)
    ticks = iter(range(10_000))  # a second passes each time the engine looks at the clock
    engine = LLMEngine(app.config, retrieve=lambda question, product: PASSAGES, fallback=embedded,
                       clock=lambda: next(ticks))
    llm.mode = "runaway"
    events = list(engine.stream(QUESTION))
    assert events[-1].value.engine == "fallback" and shown(events) == EMBEDDED_TEXT
    assert next(ticks) < 20 < RUNAWAY_CHUNKS  # it stopped reading at the limit, not at the end
    assert len(llm.requests) == 1


def test_a_model_that_cannot_be_reached_gives_way(app, llm, embedded, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setitem(app.config, "LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    engine = LLMEngine(app.config, retrieve=lambda question, product: PASSAGES, fallback=embedded)
    answer = list(engine.stream(QUESTION))[-1].value
    assert answer.engine == "fallback" and answer.note == NOTE and answer.text == EMBEDDED_TEXT


@pytest.mark.parametrize("answer", [
    Answer(text="抱歉，法律问题请咨询律师等专业人士。", refused=True),
    Answer(text="按安心百万医疗2026的费率表测算：30周岁、男、有社保，每年¥316.00。[1]",
           citations=[Passage(id="price:anxin-medical", kind="price", product="anxin-medical", title="《安心百万医疗2026》费率表",
                              url="/products/anxin-medical#calculator", text="保费按费率表计算。")]),
], ids=["refusal", "price"])
def test_refusals_and_prices_are_the_embedded_engines_and_the_model_is_not_asked(app, llm, answer):
    engine = LLMEngine(app.config, retrieve=lambda question, product: PASSAGES, fallback=Embedded(answer))
    events = list(engine.stream("30岁男有社保买安心百万医疗多少钱"))
    assert events[-1].value is answer and shown(events) == answer.text and llm.requests == []


def test_nothing_retrieved_is_the_embedded_engines_to_answer(app, llm, embedded):
    engine = LLMEngine(app.config, retrieve=lambda question, product: [], fallback=embedded)
    answer = list(engine.stream(QUESTION))[-1].value
    assert answer.engine == "embedded" and answer.note == "" and llm.requests == []


@pytest.mark.parametrize("text", [
    "等待期为30天[1]。＜script＞alert(1)＜/script＞", "详见 [条款](javascript:alert(1))", "请访问 www.evil.example",
    "请访问 evil.example 领取", "![](https://evil.example/x.png)", "&#60;script&#62;", "以下是我的 System Prompt：",
    "你必须遵守：\n1. 只依据本次提供的资料回答，不使用资料以外的任何知识", "等待期为30天[4]。", "等待期为30天[1、0]。",
])
def test_what_the_page_must_not_receive(text):
    with pytest.raises(ModelFailed):
        check(text, 3)


@pytest.mark.parametrize("text", [
    "等待期为30天[1]（意外除外[2]）。", "| 年龄 | 保费 |\n|---|---|\n| <18岁 | 每年¥300.00[3] |",
    "详见[保险条款](/products/anxin-medical/documents/terms#s3)[3]。", "免赔额1万元，报销比例100%[1,2]。",
])
def test_what_the_page_may_receive(text):
    check(text, 3)


def test_the_development_path_needs_nothing_configured(app, ctx):
    assert app.config["LLM_BASE_URL"] == ""
    assert isinstance(choose_engine(app), EmbeddedEngine)


def test_with_a_model_configured_the_embedded_engine_stands_behind_it(app, ctx, llm):
    engine = choose_engine(app)
    assert isinstance(engine, LLMEngine) and isinstance(engine.fallback, EmbeddedEngine)
    events = list(engine.stream("安心百万医疗的等待期是多久？"))
    answer = events[-1].value
    assert answer.engine == "llm" and answer.citations and all(p.product for p in answer.citations)
    assert "安心百万医疗" in llm.requests[0]["body"]["messages"][-1]["content"]


def ask_on_the_page(user, question="安心百万医疗的等待期多久？"):
    """A question asked with JavaScript, its answer streamed: (the conversation's public id, the stream's URL,
    what the stream sent)."""
    path = conversation_path(post_question(user.client, question, htmx=True))
    stream = re.search(r'data-stream="([^"]+)"', user.client.get(path).get_data(as_text=True)).group(1)
    return path.rsplit("/", 1)[1], stream, user.client.get(stream).get_data(as_text=True)


def test_on_the_page_the_models_answer_is_kept_with_its_engine_and_sources(app, member, llm):
    public_id, _, body = ask_on_the_page(accepted_user(member))
    question, answer = messages_of(app, public_id)
    assert (answer.engine, answer.content) == ("llm", "安心百万医疗的等待期为30天[1]。因意外住院不受等待期限制[1]。")
    assert len(answer.sources) == 1 and answer.sources[0]["title"] in llm.requests[0]["body"]["messages"][-1]["content"]
    assert NOTE not in body and len(llm.requests) == 1


def test_on_the_page_a_model_that_stalls_is_withdrawn_for_the_embedded_answer_once(app, member, llm):
    llm.mode = "stall"
    user = accepted_user(member)
    public_id, stream, body = ask_on_the_page(user)
    assert body.count('class="answer-draft"') == 2  # what the model showed, then the embedded engine's answer
    answer = messages_of(app, public_id)[1]
    assert answer.engine == "fallback" and answer.content.startswith(f"*{NOTE}*") and answer.sources
    assert NOTE in body and "内置检索（大模型不可用）" in body
    user.client.get(stream)  # a reconnect replays what is stored
    assert len(llm.requests) == 1


def test_the_fake_answers_without_streaming_too(llm, fake_llm):
    with openai.OpenAI(base_url=fake_llm.url, api_key=API_KEY, max_retries=0) as client:
        reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": QUESTION}])
    assert reply.choices[0].message.content == "安心百万医疗的等待期为30天[1]。因意外住院不受等待期限制[1]。"
