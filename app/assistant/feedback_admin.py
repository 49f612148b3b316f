"""智能管家's 👍/👎 in the back office (运营 and 审核): the rated answers, newest first, with the reason given, the
question (stored masked), the answer, its engine and its sources. Read only; nothing here names the user."""
from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.admin import auth as staff_auth
from app.admin import bp
from app.admin.access import requires, section
from app.assistant.models import ENGINES, AssistantMessage
from app.core.routing import page_number
from app.extensions import db

section("回答评价", "admin.assistant_feedback", "assistant.feedback", position=72)

PAGE_SIZE = 30
RATINGS = {"down": -1, "up": 1}


@bp.get("/assistant/feedback")
@requires("assistant.feedback")
def assistant_feedback():
    shown = request.args.get("rating", "down")
    rating = RATINGS.get(shown)
    page = page_number(request.args.get("page"))
    question = aliased(AssistantMessage)
    asked = (select(question.content).where(question.conversation_id == AssistantMessage.conversation_id,
                                            question.role == "user", question.id < AssistantMessage.id)
             .order_by(question.id.desc()).limit(1).scalar_subquery())
    query = (select(AssistantMessage, asked.label("question")).where(AssistantMessage.rating.is_not(None))
             .order_by(AssistantMessage.rated_at.desc(), AssistantMessage.id.desc()))
    if rating is not None:
        query = query.where(AssistantMessage.rating == rating)
    rows = db.session.execute(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/assistant/feedback.html", staff=staff_auth.current_staff(), rows=rows[:PAGE_SIZE],
                           more=len(rows) > PAGE_SIZE, page=page, shown=shown if rating else "all", engines=ENGINES)
