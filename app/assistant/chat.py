"""智能管家's use cases: a user's conversations (theirs only), asking a question (input review → the engine's
stream → output review → saved), rating an answer, deleting a conversation, and the export that carries the
labels (《人工智能生成合成内容标识办法》, GB 45438-2025).

An answer is generated once. ``ask`` saves the question and a "pending" answer; ``generate`` claims it with a
conditional UPDATE (pending → streaming) and only the request that wins runs the engine; any other request for
it (a reconnect, a second tab) replays what is stored once it is done. The engine is never called inside a write
transaction: the question is read, the write lock released, the engine streams, then the answer is written.
"""
import json
import re
import secrets
from datetime import UTC, datetime, time

from flask import current_app, has_request_context, request
from sqlalchemy import delete, func, select, update

from app.assistant import charts, embedded, llm, review
from app.assistant.engines import Answer
from app.assistant.models import AssistantMessage, Conversation
from app.catalog.models import Product
from app.catalog.services import get_product
from app.core.clock import SHANGHAI, to_local
from app.core.database import begin_write
from app.core.domain import DomainError
from app.core.masking import mask_id_number, mask_phone
from app.extensions import db

# The explicit label every answer carries on screen, when copied and when exported, and the reminder beside it.
LABEL = "内容由人工智能生成"
DISCLAIMER = "仅供参考，不构成专业建议"
NOTICE = "智能管家的回答由人工智能生成，仅依据本平台销售的保险产品资料，仅供参考，不构成专业建议；需要时请转人工。"
# The implicit label's ContentProducer (GB 45438-2025: who produced the content; config AIGC_PRODUCER overrides).
PRODUCER = "微保·智能管家"
DAILY_QUOTA = 50  # questions per user per day (config ASSISTANT_DAILY_QUOTA overrides)
QUESTION_MAX = 500
UNAVAILABLE = "智能管家暂时无法回答，请稍后再试，或转人工咨询。"
INTERRUPTED = "这条回答在生成时页面关闭了，没有保存。请重新提问。"
REPLAY_SECONDS = 60  # how long a reconnect waits for an answer another request is generating
GENERAL_SUGGESTIONS = ("30岁男有社保买安心百万医疗多少钱？", "百万医疗险的等待期是多久？", "重疾险和医疗险有什么区别？",
                       "怎么申请理赔？")


def engine_for(app):
    """The engine that answers: the model when configured (llm.choose_engine), else the embedded one."""
    return llm.choose_engine(app)


# Conversations

def conversations_of(user):
    return db.session.scalars(select(Conversation).where(Conversation.user_id == user.id)
                              .order_by(Conversation.updated_at.desc(), Conversation.id.desc())).all()


def find(user, public_id):
    """The user's conversation, or None (another user's is not found either)."""
    return db.session.scalar(select(Conversation).where(Conversation.public_id == public_id,
                                                        Conversation.user_id == user.id))


def find_answer(conversation, message_id):
    message = db.session.get(AssistantMessage, message_id)
    if message is None or message.conversation_id != conversation.id or message.role == "user":
        return None
    return message


def product_of(conversation):
    return db.session.get(Product, conversation.product_id) if conversation.product_id else None


def suggestions(product):
    if product is None:
        return GENERAL_SUGGESTIONS
    return (f"30岁男有社保买{product.name}多少钱？", f"{product.name}保障哪些内容？", f"{product.name}的等待期是多久？",
            f"{product.name}有哪些责任免除？")


def restriction(user, now):
    """The user's restriction in force (review keeps them), or None."""
    return review.restriction_of(user, now)


def delete_conversation(conversation):
    """The conversation and its messages (review events keep their rows, without the message)."""
    db.session.execute(delete(AssistantMessage).where(AssistantMessage.conversation_id == conversation.id))
    db.session.delete(conversation)


# Asking

_ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_question(text):
    """What is stored of a question: identity card and mobile numbers masked."""
    return _MOBILE.sub(lambda m: mask_phone(m.group()), _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text))


def questions_today(user, now):
    """How many questions the user asked today (Shanghai's day), in every conversation, deleted ones aside."""
    start = datetime.combine(to_local(now).date(), time(), SHANGHAI).astimezone(UTC).replace(tzinfo=None)
    return db.session.scalar(select(func.count(AssistantMessage.id)).join(Conversation)
                             .where(Conversation.user_id == user.id, AssistantMessage.role == "user",
                                    AssistantMessage.created_at >= start))


def daily_quota():
    return int(current_app.config.get("ASSISTANT_DAILY_QUOTA", DAILY_QUOTA))


def start(user, product, now):
    """A new conversation (flushed), about ``product`` or general."""
    conversation = Conversation(public_id=secrets.token_urlsafe(16), user_id=user.id,
                                product_id=product.id if product else None, title="", created_at=now, updated_at=now)
    db.session.add(conversation)
    db.session.flush()
    return conversation


def ask(conversation, text, *, user, now, ip):
    """Save the question (masked) and what follows it: an answer waiting to be generated ("pending"), or, when
    input review refuses the question, its notice. Within the caller's write transaction; flushes. Raises
    DomainError (on "question") past the daily quota. Returns the message that follows the question."""
    if questions_today(user, now) >= daily_quota():
        raise DomainError(f"今天的提问次数（{daily_quota()}次）已用完，请明天再来，或转人工咨询。", "question")
    verdict = review.check_input(text, user, now, ip)
    status = verdict.verdict
    masked = mask_question(verdict.text if verdict.ok else text)  # review's masks too
    if not conversation.title:
        conversation.title = masked[:40]
    conversation.updated_at = now
    db.session.add(AssistantMessage(conversation_id=conversation.id, role="user", content=masked, verdict=status,
                                    status="done", created_at=now))
    if status == "ok":
        follow = AssistantMessage(conversation_id=conversation.id, role="assistant", content="", status="pending",
                                  produce_id=new_produce_id(), created_at=now)
    else:
        follow = AssistantMessage(conversation_id=conversation.id, role="notice", content=verdict.message,
                                  verdict=status, status="done", created_at=now)
    db.session.add(follow)
    db.session.flush()
    return follow


def new_produce_id():
    """The implicit label's ProduceID of one answer: unique, not guessable."""
    return secrets.token_hex(16)


def generate(message_id, *, user, clock):
    """The answer's events, for the page to show as they come: ("text", chunk), ("reset", None) when what was
    shown is to be dropped (the engine starts over, or output review stopped it), then ("done", message).

    Only the caller whose conditional UPDATE moves the answer from pending to streaming runs the engine; others
    wait for it to be done (up to REPLAY_SECONDS) and get ("done", message) alone. ``clock()`` is db_now."""
    begin_write()
    claimed = db.session.execute(update(AssistantMessage).where(AssistantMessage.id == message_id,
                                                                AssistantMessage.status == "pending")
                                 .values(status="streaming")).rowcount == 1
    db.session.commit()
    if not claimed:
        yield "done", _wait_for(message_id)
        return
    message = db.session.get(AssistantMessage, message_id)
    conversation = message.conversation
    earlier = [m for m in conversation.messages if m.id < message.id and m.status == "done"]
    question = next((m.content for m in reversed(earlier) if m.role == "user"), "")
    history = tuple((m.role, m.content) for m in earlier[:-1] if m.role in ("user", "assistant"))[-6:]
    product = product_of(conversation)
    db.session.commit()  # the read ends before the engine is called

    answer, stopped, shown, watchers = None, None, [], []
    ip = request.remote_addr if has_request_context() else ""

    def watcher():  # output review writes nothing while the engine streams: its verdicts are recorded with the answer
        watchers.append(review.OutputWatcher(user_id=user.id, ip=ip, now=clock()))
        return watchers[-1]

    watching = watcher()
    engine = engine_for(current_app)
    try:
        for event in engine.stream(question, product=product, history=history):
            if event.kind == "reset":
                shown.clear()
                watching = watcher()
                yield "reset", None
                continue
            if event.kind == "done":
                answer = event.value
                if shown or not answer.text:
                    continue
                text = answer.text  # an engine that streamed nothing: its whole text, reviewed
            else:
                text = event.value
            step = watching.feed(text)
            if step.stopped:
                stopped = step
                break
            chunk = step.text
            if chunk:
                shown.append(chunk)
                yield "text", chunk
        if stopped is None:
            step = watching.finish()
            if step.stopped:
                stopped = step
            elif step.text:
                shown.append(step.text)
                yield "text", step.text
    except GeneratorExit:  # the page went away: the answer is not left half made (a reconnect would wait for it)
        _save(message_id, None, None, "", watchers, clock(), INTERRUPTED)
        raise
    except Exception:  # an engine's failure is the user's notice, never a 500 halfway through a stream
        current_app.logger.exception("assistant: the engine failed on message %s", message_id)
        answer = None
    if stopped is not None or answer is None:
        yield "reset", None
    yield "done", _save(message_id, answer, stopped, "".join(shown), watchers, clock())


def _save(message_id, answer, stopped, shown, watchers, now, failure=UNAVAILABLE):
    """The answer as shown (after output review), or the notice that replaced it (消除), or the engine's failure;
    with output review's events, in one write."""
    begin_write()
    message = db.session.get(AssistantMessage, message_id)
    for watching in watchers:
        watching.record(message_id)
    if stopped is not None:
        message.content, message.verdict, message.citations, message.role = stopped.notice, stopped.verdict, "[]", "notice"
        message.engine = answer.engine if answer is not None else None
    elif answer is None:
        message.content, message.citations, message.role = failure, "[]", "notice"
    else:
        message.content = f"*{answer.note}*\n\n{shown}" if answer.note else shown
        message.verdict = "refused" if answer.refused else "ok"
        message.citations = citations_json(answer)
        message.engine = answer.engine
    message.status = "done"
    message.conversation.updated_at = now
    db.session.commit()
    return message


def citations_json(answer: Answer):
    return json.dumps([{"title": p.title, "section": p.kind, "url": p.url, "product": p.product}
                       for p in answer.citations], ensure_ascii=False)


def price_chart(message):
    """A price answer's picture: the premium by age of the plan it names (of the product whose rate table it cites),
    drawn on the server as inline SVG (charts.curve); None for any other answer."""
    source = next((s for s in message.sources if s.get("section") == "price" and s.get("product")), None)
    if message.role != "assistant" or source is None:
        return None
    product = get_product(source["product"])
    if product is None or not product.plans:
        return None
    plan = next((p for p in product.plans if p.name in message.content), product.plans[0])
    gender = "F" if re.search(r"、女[、，]", message.content) else None
    social = False if "无社保" in message.content else None
    points = embedded.price_curve(product, plan, gender, social)
    if not points:
        return None
    return charts.curve(points, chart_id=f"curve-{message.id}", title=f"{product.name}{plan.name}各年龄的年缴保费",
                        description=f"从{points[0][0]}周岁到{points[-1][0]}周岁，年缴保费随年龄变化的曲线；数字见上表和计算器。")


def _wait_for(message_id):
    """The answer another request is generating, once it is done (polled; each look is its own read)."""
    import time as wall
    deadline = wall.monotonic() + REPLAY_SECONDS
    while True:
        db.session.rollback()
        message = db.session.get(AssistantMessage, message_id)
        if message.status == "done" or wall.monotonic() > deadline:
            return message
        wall.sleep(0.2)


def answer_whole(message_id, *, user, clock):
    """The answer generated at once (the page without JavaScript waits for it)."""
    message = None
    for kind, value in generate(message_id, user=user, clock=clock):
        if kind == "done":
            message = value
    return message


# Rating

def rate(message, rating, reason, now):
    """👍 (1) or 👎 (-1) on an answer, with an optional reason; rating again replaces it."""
    message.rating = rating
    message.rating_reason = reason
    message.rated_at = now


# The export (explicit label in the text, implicit label in the metadata)

def producer():
    return current_app.config.get("AIGC_PRODUCER", PRODUCER)


def aigc(produce_id):
    """The implicit label (GB 45438-2025 metadata): Label "1" = generated by AI."""
    return json.dumps({"Label": "1", "ContentProducer": producer(), "ProduceID": produce_id, "ReservedCode1": "",
                       "ContentPropagator": producer(), "PropagateID": "", "ReservedCode2": ""},
                      ensure_ascii=False)


def export(conversation, kind, now):
    """The conversation as a Markdown (``md``) or text (``txt``) file: the file's AIGC metadata in its header
    (front matter for Markdown, a first line for text), each answer's own AIGC (its ProduceID) before it (an
    HTML comment in Markdown, hidden when rendered; a line in text), and the explicit label after it."""
    answers = [m for m in conversation.messages if m.role == "assistant" and m.status == "done"]
    file_id = answers[-1].produce_id if answers else conversation.public_id
    local = to_local(now).strftime("%Y-%m-%d %H:%M")
    lines = ["---", f"AIGC: {aigc(file_id)}", "---", ""] if kind == "md" else [f"AIGC: {aigc(file_id)}", ""]
    title = conversation.title or "与智能管家的对话"
    lines += [f"# {title}" if kind == "md" else title, "",
              f"导出时间：{local}（北京时间）。本文件中「智能管家」的回答{LABEL}，{DISCLAIMER}。", ""]
    for message in conversation.messages:
        if message.status != "done":
            continue
        if message.role == "user":
            lines += [("## 我" if kind == "md" else "【我】"), "", message.content, ""]
        elif message.role == "notice":
            lines += [("## 提示" if kind == "md" else "【提示】"), "", message.content, ""]
        else:
            meta = f"AIGC: {aigc(message.produce_id)}"
            lines += [("## 智能管家" if kind == "md" else "【智能管家】"),
                      f"<!-- {meta} -->" if kind == "md" else meta, "", message.content, ""]
            for source in message.sources:
                lines.append(f"- 来源：{source['title']}（{source['url']}）")
            lines += [f"（{LABEL}，{DISCLAIMER}）", ""]
    return "\n".join(lines)
