"""智能管家, the user's side: their conversations, a conversation with its history and suggested questions, asking
(the answer streams to the page; without JavaScript the POST waits for it), rating an answer, the export with its
labels, deleting a conversation. A product page links here, pre-scoped to that product."""
from flask import (
    Response,
    abort,
    current_app,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from app.agreements.gate import consent_required
from app.assistant import bp, chat
from app.assistant.forms import AskForm, RatingForm
from app.assistant.models import ENGINES
from app.auth.forms import ActionForm
from app.catalog import services as catalog
from app.core.clock import db_now
from app.core.database import writes
from app.core.domain import DomainError
from app.core.htmx import block_html, go_to, render_page
from app.core.parts import register
from app.core.routing import is_slug
from app.extensions import db, limiter

RATE_PER_USER = "10 per minute"  # config RATELIMIT_ASSISTANT
RATE_PER_IP = "30 per minute"  # config RATELIMIT_ASSISTANT_IP


def _user_key():
    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


# Questions share one budget per user and one per address, whichever page they are asked from.
per_user = limiter.shared_limit(lambda: current_app.config.get("RATELIMIT_ASSISTANT", RATE_PER_USER),
                                scope="assistant-user", key_func=_user_key)
per_ip = limiter.shared_limit(lambda: current_app.config.get("RATELIMIT_ASSISTANT_IP", RATE_PER_IP),
                              scope="assistant-ip")


# Rendering an answer: Markdown without raw HTML (whatever a model writes, only Markdown's own markup reaches the
# page), tables on, no images, and links only to the site's own pages (citations point there).
def _site_link(url):
    return url.startswith("/") and not url.startswith(("//", "/\\"))


_markdown = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")
_markdown.validateLink = _site_link


@bp.app_template_filter("answer_markdown")
def answer_markdown(text):
    return Markup(_markdown.render(text or ""))


bp.add_app_template_global(chat.price_chart, "price_chart")


def _product_or_none(slug):
    return catalog.get_product(slug) if is_slug(slug) else None


def _conversation_or_404(public_id):
    conversation = chat.find(current_user, public_id)
    if conversation is None:
        abort(404)
    return conversation


def _answer_or_404(conversation, message_id):
    message = chat.find_answer(conversation, message_id)
    if message is None:
        abort(404)
    return message


def _page_context():
    return {"restriction": chat.restriction(current_user, db_now()), "label": chat.LABEL, "disclaimer": chat.DISCLAIMER, "notice": chat.NOTICE, "engines": ENGINES,
            "rating_form": RatingForm(formdata=None), "action_form": ActionForm(formdata=None)}


@bp.get("/assistant")
@login_required
def index():
    """The user's conversations and a new one (about ?product=<slug> when opened from a product page)."""
    product = _product_or_none(request.args.get("product", ""))
    form = AskForm(formdata=None, data={"product": product.slug if product else ""})
    return _render_index(form, product)


def _render_index(form, product, status=200):
    return render_page("assistant/index.html", "ask", status, form=form, product=product,
                       conversations=chat.conversations_of(current_user), suggestions=chat.suggestions(product),
                       **_page_context())


@bp.post("/assistant")
@consent_required
@per_user
@per_ip
@writes
def new():
    """A new conversation with its first question."""
    form = AskForm()
    product = _product_or_none(form.product.data)
    if not form.validate():
        return _render_index(form, product, 422)
    now = db_now()
    conversation = chat.start(current_user, product, now)
    try:
        follow = chat.ask(conversation, form.question.data, user=current_user, now=now, ip=request.remote_addr)
    except DomainError as error:
        db.session.rollback()
        form.question.errors.append(error.message)
        return _render_index(form, product, 429)
    db.session.commit()
    return _answered(conversation, follow)


def _answered(conversation, follow):
    """After a question: with JavaScript the page streams the answer; without, the answer is made now."""
    url = url_for("assistant.conversation", public_id=conversation.public_id)
    if follow.status == "pending" and not request.htmx:
        chat.answer_whole(follow.id, user=current_user, clock=db_now)
    return go_to(f"{url}#m{follow.id}")


@bp.get("/assistant/c/<public_id>")
@login_required
def conversation(public_id):
    conversation = _conversation_or_404(public_id)
    return _render_conversation(conversation, AskForm(formdata=None))


def _render_conversation(conversation, form, status=200, block="content"):
    product = chat.product_of(conversation)
    return render_page("assistant/conversation.html", block, status, conversation=conversation, form=form,
                       product=product, suggestions=chat.suggestions(product), **_page_context())


@bp.post("/assistant/c/<public_id>")
@consent_required
@per_user
@per_ip
@writes
def ask(public_id):
    conversation = _conversation_or_404(public_id)
    form = AskForm()
    if not form.validate():
        return _render_conversation(conversation, form, 422, "ask")
    try:
        follow = chat.ask(conversation, form.question.data, user=current_user, now=db_now(), ip=request.remote_addr)
    except DomainError as error:
        db.session.rollback()
        form.question.errors.append(error.message)
        return _render_conversation(_conversation_or_404(public_id), form, 429, "ask")
    db.session.commit()
    if request.htmx:  # the thread with the new question and the answer that will stream into it
        return _render_conversation(conversation, AskForm(formdata=None), block="chat")
    return _answered(conversation, follow)


@bp.get("/assistant/c/<public_id>/m/<int:message_id>/stream")
@login_required
def stream(public_id, message_id):
    """The answer as chunked HTML: its text escaped as it is generated (in draft blocks; a later one replaces the
    earlier), then the answer rendered whole. Only the first request generates; a reconnect gets the answer once
    it is stored (chat.generate)."""
    conversation = _conversation_or_404(public_id)
    message = _answer_or_404(conversation, message_id)
    user = current_user._get_current_object()
    if message.status == "done":
        return Response(_rendered(message), mimetype="text/html")

    def events():
        yield '<div class="answer-draft" aria-hidden="true">'
        for kind, value in chat.generate(message.id, user=user, clock=db_now):
            if kind == "text":
                yield str(escape(value))
            elif kind == "reset":
                yield '</div><div class="answer-draft" aria-hidden="true">'
            else:
                yield "</div>" + _rendered(value)
    return Response(stream_with_context(events()), mimetype="text/html",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _rendered(message):
    """One message as the conversation page shows it."""
    return block_html("assistant/conversation.html", "message", message=message,
                        conversation=message.conversation, **_page_context())


@bp.post("/assistant/c/<public_id>/m/<int:message_id>/rating")
@login_required
@writes
def rate(public_id, message_id):
    conversation = _conversation_or_404(public_id)
    message = _answer_or_404(conversation, message_id)
    form = RatingForm()
    status = 200
    if message.role == "assistant" and message.status == "done" and form.validate():
        chat.rate(message, int(form.rating.data), form.reason.data, db_now())
        db.session.commit()
    else:
        status = 422
    if not request.htmx:
        return redirect(url_for("assistant.conversation", public_id=public_id) + f"#m{message.id}")
    return render_page("assistant/conversation.html", "footer", status, message=message, conversation=conversation,
                       **{**_page_context(), "rating_form": form})


@bp.get("/assistant/c/<public_id>/export.<any(md, txt):kind>")
@login_required
def export(public_id, kind):
    """The conversation as a file, with both labels (see chat.export)."""
    conversation = _conversation_or_404(public_id)
    body = chat.export(conversation, kind, db_now())
    mimetype = "text/markdown" if kind == "md" else "text/plain"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="wesure-assistant-{conversation.public_id}.{kind}"',
        "Cache-Control": "no-store"})


@bp.post("/assistant/c/<public_id>/delete")
@login_required
@writes
def delete(public_id):
    conversation = _conversation_or_404(public_id)
    if ActionForm().validate():
        chat.delete_conversation(conversation)
        db.session.commit()
    return go_to(url_for("assistant.index"))


# Parts of other pages

@register(bp, "product_actions", "assistant/product_action.html")
def product_action(product, user):
    """A product page's 问智能管家 (pre-scoped to the product)."""
    return {"product": product}


@register(bp, "my_data", "assistant/my_data.html")
def my_data(user):
    """我的数据: the conversations kept, each deletable."""
    conversations = chat.conversations_of(user)
    if not conversations:
        return None
    return {"conversations": conversations, "form": ActionForm(formdata=None)}
