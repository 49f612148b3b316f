"""One template per page; htmx requests get only the named block of it."""
from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block


def wants_fragment():
    """True for an htmx request that will swap a part of the page.

    Boosted navigation and history restores replace the whole document, so they get the full page.
    """
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render_page(template, block, status=200, **context):
    """Render ``template`` whole, or only ``block`` for an htmx request; responses vary on HX-Request."""
    if wants_fragment():
        # ``fragment`` lets a block add out-of-band pieces (such as field errors) only when served alone.
        html = render_block(template, block, fragment=True, **context)
    else:
        html = render_template(template, **context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    return response
