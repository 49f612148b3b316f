"""智能管家 (the AI assistant) and 在线客服 (human consultation). Answers come only from the platform's own
material (engines.py: one interface, an embedded retrieval engine and an OpenAI-compatible model behind it),
every input and output goes through review (review.py: the term library), and a person is one click away."""
from flask import Blueprint

bp = Blueprint("assistant", __name__, cli_group=None)


def init_app(app):
    """The routes (the back office's too, before the back office's blueprint is registered). Imported here,
    not with the package: other capabilities read the models (我的数据) without loading the views."""
    from app.assistant import consult_admin, consult_views, feedback_admin, review_admin, views  # noqa: F401
    app.register_blueprint(bp)


from app.assistant import models  # noqa: E402,F401  (the tables)
