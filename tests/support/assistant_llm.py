"""Tests of 智能管家's large model: a fake OpenAI-compatible server on a loopback port (/v1/chat/completions,
streamed as server-sent events or not), told by the test how to behave on its next requests: answer citing
[1], stall before the first token or in the middle (until the test releases it), answer 429 or 500, send a
malformed chunk, end without finishing, say something hostile, cite a passage it was not given or none,
refuse, never stop. It keeps what it was asked (headers and body). Fixtures: ``fake_llm`` (the server), ``llm`` (the app configured to use it)."""
import json
import threading
from types import SimpleNamespace

import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

MODEL = "qwen-test"
API_KEY = "sk-test-0123456789"

# What each mode answers (a list: the chunks streamed, in order). A mode's answer cites [1] unless it is about
# citations. "stall" waits before its third chunk, "cut" ends without a finish reason; the hostile ones turn
# after a first sentence long enough to have been shown.
NORMAL = ["安心百万医疗", "的等待期为", "30天[1", "]。因意外住院", "不受等待期限制[1]。"]
SHOWN_FIRST = ["安心百万医疗2026的等待期为30天[1]。", "因意外伤害住院的，不受等待期限制[1]。"]
ANSWERS = {
    "normal": NORMAL,
    "slow": NORMAL,
    "renumber": ["等待期为30天[3]。", "续保需重新", "审核[1]，", "保证续保期间[3]内不用。"],
    "stall": [*SHOWN_FIRST, "另外，"],
    "cut": SHOWN_FIRST,
    "script": [*SHOWN_FIRST, "<scr", "ipt>alert(1)</script>"],
    "link": [*SHOWN_FIRST, "[点此领取优惠](https://evil", ".example/claim)"],
    "prompt": ["以下是系统", "提示：你是智能管家[1]。"],
    "cite9": ["等待期为30天[9]。"],
    "uncited": ["等待期为30天。", "因意外住院不受等待期限制。"],
    "refuse": ["无法", "回答"],
    "empty": [],
}
RUNAWAY_CHUNKS = 2000  # "runaway": this many chunks of a cited sentence, unless the client goes first


class FakeModel:
    """The fake server's state: the mode of the next requests, what they asked, and the event a stalled answer
    waits for (set by ``release``)."""

    def __init__(self):
        self.mode = "normal"
        self.requests = []  # {"headers": …, "body": …}, one a request
        self.released = threading.Event()

    def release(self):
        self.released.set()

    def reset(self):
        self.release()
        self.mode = "normal"
        self.requests.clear()
        self.released = threading.Event()


def chunk(content=None, *, role=None, finish=None):
    delta = {key: value for key, value in (("role", role), ("content", content)) if value is not None}
    return "data: " + json.dumps({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1767225600, "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}, ensure_ascii=False) + "\n\n"


def create_fake(state):
    fake = Flask("fake_llm")

    @fake.post("/v1/chat/completions")
    def completions():
        body = request.get_json()
        state.requests.append({"headers": dict(request.headers), "body": body})
        mode, released = state.mode, state.released
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return jsonify(error={"message": "Invalid API key", "type": "invalid_request_error"}), 401
        if mode in ("429", "500"):
            message = "Rate limit reached" if mode == "429" else "The server had an error"
            return jsonify(error={"message": message, "type": "server_error"}), int(mode)
        if not body.get("stream"):
            return jsonify(id="chatcmpl-fake", object="chat.completion", created=1767225600, model=MODEL,
                           choices=[{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": "".join(ANSWERS[mode])}}],
                           usage={"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120})

        def events():
            yield chunk("", role="assistant")
            if mode == "slow":
                released.wait(30)
            if mode == "malformed":
                yield from (chunk(content) for content in SHOWN_FIRST)
                yield 'data: {"id": "chatcmpl-fake", "choices": [{"delta": {"content": "30天\n\n'
                return
            if mode == "runaway":
                for _ in range(RUNAWAY_CHUNKS):
                    yield chunk("等待期为30天[1]。")
            for number, content in enumerate(ANSWERS.get(mode, ())):
                if mode == "stall" and number == 2:
                    released.wait(30)
                yield chunk(content)
            if mode == "cut":
                return
            yield chunk(finish="stop")
            yield "data: [DONE]\n\n"

        return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})

    return fake


@pytest.fixture(scope="session")
def fake_llm():
    state = FakeModel()
    server = make_server("127.0.0.1", 0, create_fake(state), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/v1"
    yield SimpleNamespace(url=url, state=state)
    state.release()
    server.shutdown()


@pytest.fixture()
def llm(app, fake_llm, monkeypatch):
    """The app configured with a large model: the fake, given up on after a second of silence."""
    for key, value in {"LLM_BASE_URL": fake_llm.url, "LLM_MODEL": MODEL, "LLM_API_KEY": API_KEY,
                       "LLM_TIMEOUT_SECONDS": 1, "LLM_MAX_SECONDS": 20}.items():
        monkeypatch.setitem(app.config, key, value)
    yield fake_llm.state
    fake_llm.state.reset()
