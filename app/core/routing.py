"""URL converters shared by the blueprints. A path segment is never free text: the default converter
refuses control characters (NUL included, which PostgreSQL cannot even compare), so such a URL is a
404 before any view or query sees it. And the few views that take files say how large a request may be
(``takes_files``); every other request is held to MAX_CONTENT_LENGTH."""
import re

from flask import current_app, request
from werkzeug.routing import BaseConverter, IntegerConverter, UnicodeConverter

# Any character but "/", C0 and C1 controls and DEL.
_SEGMENT = r"[^/\x00-\x1f\x7f-\x9f]"


class SlugConverter(BaseConverter):
    """Lowercase words joined by hyphens. Anything else is a 404 before it reaches the database."""
    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


class TextConverter(UnicodeConverter):
    """werkzeug's string converter (``<name>``, ``<string:name>``) without control characters."""

    def __init__(self, map, minlength=1, maxlength=None, length=None):
        super().__init__(map, minlength, maxlength, length)
        self.regex = _SEGMENT + self.regex[len("[^/]"):]


class IdConverter(IntegerConverter):
    """werkzeug's int converter (``<int:id>``) up to what an INTEGER column holds: a larger number is a 404,
    never a query the database cannot even bind."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_slug(value) -> bool:
    """Whether a value read from a query or a form (not a path) could name a slug at all: anything else is
    looked up nowhere (PostgreSQL refuses a NUL in a text comparison)."""
    return isinstance(value, str) and re.fullmatch(SlugConverter.regex, value) is not None


def is_token(value) -> bool:
    """The same for a random public id (secrets.token_urlsafe)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def page_number(value, last=100000) -> int:
    """A ?page= as typed: 1 unless it is ASCII digits naming a page from 1 to ``last`` (Unicode digits such as
    "³" are not numbers int() reads)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < int(value) <= last:
        return int(value)
    return 1


def takes_files(limit):
    """View decorator (innermost, so wrappers copy it): requests to this view may be ``limit`` bytes."""
    def decorate(view):
        view.max_upload = limit
        return view
    return decorate


def _request_limit(endpoint, _values):
    """Before any before_request hook reads the body (CSRFProtect does), the view's own limit."""
    limit = getattr(current_app.view_functions.get(endpoint), "max_upload", None)
    if limit:
        request.max_content_length = limit


def init_app(app):
    app.url_value_preprocessor(_request_limit)
    app.url_map.converters["slug"] = SlugConverter
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter
    app.url_map.converters["int"] = IdConverter
