"""Talking to the app as a browser does: its CSRF token, a form field's value, the htmx request header; and
counting the queries a request makes."""
import re
from contextlib import contextmanager

from sqlalchemy import event

HX = {"HX-Request": "true"}


def token(page):
    """The CSRF token a page carries: the X-CSRFToken of its htmx headers, as htmx sends it, or else (a
    fragment, a page of a layout without them) its forms' hidden csrf_token field. A page holds one token."""
    found = re.search(r'"X-CSRFToken": "([^"]+)"', page) or re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return found.group(1)


def field(page, name):
    """The value a page's form holds in its field ``name`` ("" when there is none)."""
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page)
    return match.group(1) if match else ""


def csrf_token(client, path="/products/anxin-million-medical"):
    """The token a browser would send: read from the page's htmx headers, as htmx does."""
    return token(client.get(path).get_data(as_text=True))


@contextmanager
def count_queries(engine):
    statements = []

    def record(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is not a query
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
