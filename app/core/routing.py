"""URL converters shared by the blueprints."""
from werkzeug.routing import BaseConverter


class SlugConverter(BaseConverter):
    """Lowercase words joined by hyphens. Anything else is a 404 before it reaches the database."""
    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


def init_app(app):
    app.url_map.converters["slug"] = SlugConverter
