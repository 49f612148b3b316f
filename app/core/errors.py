"""Error pages in Chinese, in the site layout, rendered even when the database is down."""
from contextlib import suppress

from flask import current_app, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.core.htmx import wants_fragment
from app.extensions import db, login_manager

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请返回上一页检查后重试。"),
    404: ("页面不存在", "你访问的页面不存在或已下线，可以回到首页或浏览全部保险产品。"),
    405: ("请求方式不支持", "这个页面不支持该操作，请返回上一页重试。"),
    413: ("提交的内容太大", "提交的内容超过了大小限制，请精简后重新提交。"),
    429: ("操作太频繁", "你的操作太频繁了，请稍等一分钟后再试。"),
    500: ("服务器开小差了", "我们已记录这个问题，请稍后再试。你填写的内容不会丢失。"),
    503: ("服务暂时不可用", "系统正在恢复中，请稍等几分钟后再试。"),
}


def render_error(status, title=None, message=None):
    """The error page in the layout; for an htmx request (a poll, a search) just the message, which
    site.js shows where the user is looking."""
    default_title, default_message = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    context = {"status": status, "title": title or default_title, "message": message or default_message}
    template = "errors/fragment.html" if wants_fragment() else "errors/error.html"
    try:
        return render_template(template, **context), status
    except SQLAlchemyError:
        return _render_without_database(template, context), status


def _render_without_database(template, context):
    """The layout names the signed-in user, whom Flask-Login's context processor loads from the database.
    When that fails (the database is what went away), the page is rendered without context processors, as
    an anonymous visitor sees it; the session is left alone, so the user is still signed in afterwards."""
    with suppress(SQLAlchemyError):
        db.session.rollback()
    return current_app.jinja_env.get_template(template).render(
        current_user=login_manager.anonymous_user(), **context)


def handle_http_error(error: HTTPException):
    return render_error(error.code or 500)


def handle_csrf_error(error: CSRFError):
    return render_error(400, "页面已过期", "为保护你的账户安全，本页已失效，请刷新页面后重新提交。")


def handle_database_unavailable(error):
    # Unreachable, restarting or busy: the request may succeed later, so 503 rather than a bug's 500.
    current_app.logger.exception("Database unavailable")
    return render_error(503)


def handle_unexpected_error(error):
    # The traceback goes to the log (redacted, see core.logs); the user sees a page in the layout.
    current_app.logger.exception("Unhandled error")
    return render_error(500)


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected_error)
