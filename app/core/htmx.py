"""One template per page; htmx requests get only the named block of it."""
from flask import current_app, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block

from app.extensions import shared_cache

# The block of every page template that holds the page itself, inside the layout of base.html.
CONTENT = "content"


def wants_fragment():
    """True for an htmx request that will swap a part of the page.

    Boosted navigation and history restores replace the whole document, so they get the full page.
    """
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def go_to(url):
    """Send the browser to ``url``: a 302, or for an htmx request that would swap a fragment, a 200 with
    HX-Redirect (htmx loads the whole page; it does not follow a 302 as a navigation)."""
    if wants_fragment():
        return make_response(("", 200, {"HX-Redirect": url}))
    return redirect(url)


def render_page(template, block, status=200, *, cache_key=None, load=None, **context):
    """Render ``template`` whole, or only ``block`` for an htmx request; responses vary on HX-Request.

    With ``cache_key``, the part that is the same for every visitor (``block`` for htmx, the page's
    content block otherwise) is rendered once per PAGE_CACHE_SECONDS with the extra context ``load()``
    returns and shared; the layout around it (CSRF token, later the user) is rendered per request.
    Only for pages whose content block holds nothing personal.
    """
    fragment = wants_fragment()
    if cache_key is None:
        context.update(load() if load else {})
        if fragment:
            # ``fragment`` lets a block add out-of-band pieces (such as field errors) only when served alone.
            html = render_block(template, block, fragment=True, **context)
        else:
            html = render_template(template, **context)
    else:
        part = block if fragment else CONTENT

        def render():
            return render_block(template, part, fragment=fragment, **context, **load())

        html = shared_cache.get_or_make((template, part, cache_key), render)
        if not fragment:
            html = _render_around(template, CONTENT, html, context)
    response = make_response(html, status)
    response.vary.add("HX-Request")
    return response


def block_html(template, block, **context):
    """One named block of a page template as HTML, for a response made of several (a streamed answer's
    finished message); a view answering with one block uses render_page."""
    return render_block(template, block, **context)


def _render_around(template_name, block, block_html, context):
    """The whole page with ``block`` replaced by ready HTML (how jinja2-fragments picks blocks, turned
    around: the block's render function is swapped for one that yields the cached HTML)."""
    template = current_app.jinja_env.get_or_select_template(template_name)
    current_app.update_template_context(context)
    ctx = template.new_context(context)
    ctx.blocks[block] = [lambda _ctx: iter((block_html,))]
    return template.environment.concat(template.root_render_func(ctx))
