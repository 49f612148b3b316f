"""Browse, search and price. Views parse input, call a service and render; htmx gets named blocks."""
from flask import abort, current_app, request
from flask_login import current_user

from app.agreements.services import render_markdown
from app.catalog import bp, services, trail
from app.catalog.forms import CatalogFilterForm, QuoteForm
from app.catalog.models import DOCUMENT_KINDS, Category
from app.core.clock import db_now, today_local
from app.core.database import begin_write
from app.core.htmx import render_page, wants_fragment
from app.core.parts import parts
from app.extensions import db, limiter, shared_cache

MAX_PAGE = 10_000  # far past any real catalog; keeps the SQL offset within a 64-bit integer
DEFAULT_QUOTE = {"age": 30, "gender": "M", "social_security": "yes", "frequency": "annual"}


@bp.get("/")
def home():
    """Home: categories with their product counts, featured products, offers, the search box."""
    def load():
        return {"categories": services.category_counts(), "featured": services.featured_products(),
                "home_parts": parts("home", today=today_local())}

    personal, recommended = False, None
    if current_user.is_authenticated:  # one person's block, outside the shared content
        personal, recommended = trail.recommendations(current_user, db_now())
    return render_page("catalog/home.html", "content", cache_key="home", load=load, personal=personal,
                       recommended=recommended)


@bp.get("/products")
def products():
    """The catalog. An htmx request (typing, filters, pages) gets the results block only; typing in the
    home page's search box (its target: #suggestions) gets that page's short list of the same results."""
    form = CatalogFilterForm()
    form.set_categories(shared_cache.get_or_make(
        "categories", lambda: [(c.slug, c.name) for c in Category.ordered()]))
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)

    def load():
        pagination = services.search_products(
            **form.criteria(), page=page, per_page=current_app.config["CATALOG_PAGE_SIZE"])
        return {"pagination": pagination}

    template, block = "catalog/products.html", "results"
    if wants_fragment() and request.htmx.target == "suggestions":
        template, block = "catalog/home.html", "suggestions"
    if form.validate():
        criteria = form.criteria()
        if criteria.get("q") and page == 1:  # a search: remembered as the products it found first
            _remember(lambda: [p.id for p in services.search_products(
                **criteria, page=1, per_page=trail.SEARCH_RESULTS_KEPT).items], "search")
        response = render_page(template, block, form=form, load=load,
                               cache_key=(tuple(form.url_args().items()), page))
    else:
        response = render_page(template, block, 422, form=form, load=load)
    response.vary.add("HX-Target")
    return response


def _product_or_404(slug):
    product = services.get_product(slug)
    if product is None:
        abort(404)
    return product


def _render_product(product, form, quote, status=200, preview=None):
    in_force = preview.table if preview else product.rate_table_at(db_now())
    return render_page("catalog/product.html", "quote", status, product=product, form=form, quote=quote,
                       price_from=in_force.price_from_fen if in_force else product.price_from_fen,
                       actions=parts("product_actions", product=product, user=current_user), preview=preview)


def _quote(product, form, preview):
    """The calculator's premium, or None with the reason on its field (the preview of a draft without a rate table
    in force says so there)."""
    try:
        return services.quote_premium(product, **form.quote_args(), today=today_local(),
                                      table=preview.table if preview else product.rate_table_at(db_now()))
    except services.QuoteError as error:
        form[error.field].errors = [*form[error.field].errors, error.message]
        return None


def product_page(product, preview=None):
    """The page of ``product`` with a calculator already showing the premium for a typical insured person.
    ``preview``: the back office's preview of a product in any state (catalog/admin_views.py's Preview: its
    banner, the URLs its calculator and documents use, the rate table it is priced with)."""
    defaults = dict(DEFAULT_QUOTE, plan=product.plans[0].code if product.plans else None)
    if not product.age_min <= defaults["age"] <= product.age_max:
        defaults["age"] = product.age_min
    form = QuoteForm(formdata=None, data=defaults).for_product(product)
    return _render_product(product, form, _quote(product, form, preview), preview=preview)


def price_quote(product, preview=None):
    """The calculator's input priced: the quote block for htmx, the whole page without JavaScript."""
    form = QuoteForm().for_product(product)
    quote = _quote(product, form, preview) if form.validate() else None
    return _render_product(product, form, quote, 200 if quote else 422, preview=preview)


def document_page(product, kind, preview=None):
    """One of the product's documents (its body is Markdown)."""
    doc = next((d for d in product.documents if d.kind == kind), None)
    if kind not in DOCUMENT_KINDS or doc is None:
        abort(404)
    return render_page("catalog/document.html", "content", product=product, document=doc,
                       body=render_markdown(doc.body), preview=preview)


@bp.get("/products/<slug:slug>")
def product(slug):
    """Product page with a calculator already showing the premium for a typical insured person."""
    product = _product_or_404(slug)
    _remember(lambda: [product.id], "view")
    return product_page(product)


def _remember(product_ids, kind):
    """The browsing trail of a signed-in user with 个性化推荐 on (the check is first: for everyone else this
    costs nothing, and nothing of theirs is written)."""
    if current_user.is_authenticated and current_user.personalization_enabled:
        ids = product_ids()
        begin_write()
        trail.record(current_user, ids, kind, db_now())
        db.session.commit()


@bp.post("/products/<slug:slug>/quote")
@limiter.limit(lambda: current_app.config["RATELIMIT_QUOTE"])
def quote(slug):
    """Price the calculator's input: the quote block for htmx, the whole page without JavaScript."""
    return price_quote(_product_or_404(slug))


@bp.get("/products/<slug:slug>/documents/<kind>")
def document(slug, kind):
    """条款, 投保须知 and 健康告知 as readable pages."""
    return document_page(_product_or_404(slug), kind)
