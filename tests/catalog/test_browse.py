"""Home page and catalog: search, filters, sorting, pagination, empty state, htmx fragments."""
import re

from sqlalchemy import select

from app.catalog.models import Product
from app.core.clock import db_now
from app.extensions import db
from tests.support.web import HX


def names(html):
    return re.findall(r'<h3 class="product-name">([^<]+)</h3>', html)


def prices(html):
    return [int(p.replace(",", "").replace(".", "")) for p in
            re.findall(r'<p class="price"><strong>¥([\d,]+\.\d\d)</strong>', html)]


def get(client, query="", **headers):
    response = client.get("/products" + query, headers=headers)
    return response, response.get_data(as_text=True)


def test_home_shows_categories_featured_products_and_search(client):
    html = client.get("/").get_data(as_text=True)
    for category in ("百万医疗", "重疾", "意外", "定期寿险", "车险"):
        assert category in html
    assert 'href="/products?category=medical"' in html
    assert len(names(html)) == 6
    assert 'action="/products"' in html and 'name="q"' in html


def test_search_matches_chinese_substrings_of_name_tagline_and_insurer(client):
    _, html = get(client, "?q=医疗")
    assert "安心百万医疗2026" in names(html) and "守望定期寿险" not in names(html)
    _, html = get(client, "?q=百万")
    assert set(names(html)) >= {"安心百万医疗2026", "小童百万医疗"}
    _, html = get(client, "?q=同舟人寿")  # insurer name
    assert "守望定期寿险" in names(html)
    _, html = get(client, "?q=社保内外")  # tagline only
    assert names(html) == ["康宁e保百万医疗"]


def test_every_search_result_contains_the_term(client, ctx):
    _, html = get(client, "?q=医疗")
    expected = db.session.scalars(select(Product.name).where(
        Product.name.contains("医疗") | Product.tagline.contains("医疗"), Product.on_sale(db_now()))).all()
    total = int(re.search(r"共 <strong>(\d+)</strong>", html).group(1))
    assert total == len(expected) and total > 0


def test_all_terms_must_match(client):
    _, html = get(client, "?q=百万 小童")
    assert names(html) == ["小童百万医疗"]


def test_like_wildcards_in_the_query_are_literal(client):
    _, html = get(client, "?q=%25")
    assert names(html) == ["倍护重疾险"]  # its tagline has a literal "80%"
    _, html = get(client, "?q=_")
    assert names(html) == [] and "没有找到符合条件的产品" in html


def test_category_filter(client):
    _, html = get(client, "?category=term-life")
    assert len(names(html)) == 6
    assert html.count('<span class="tag">定期寿险</span>') == 6


def test_age_filter_keeps_only_products_accepting_that_age(client, ctx):
    _, html = get(client, "?age=70")
    found = set(names(html))
    accepting = set(db.session.scalars(select(Product.name).where(
        Product.age_min <= 70, Product.age_max >= 70, Product.on_sale(db_now()))).all())
    assert found == accepting and found
    assert "安心百万医疗2026" not in found  # 0–65
    _, html = get(client, "?age=0&category=critical-illness")
    assert "星辰少儿重疾" in names(html) and "青春版重疾险" not in names(html)


def test_sort_by_price_both_ways(client):
    _, html = get(client, "?sort=price_asc")
    ascending = prices(html)
    assert ascending == sorted(ascending) and len(ascending) == 12
    _, html = get(client, "?sort=price_desc")
    descending = prices(html)
    assert descending == sorted(descending, reverse=True)
    assert descending[0] > ascending[-1]


def test_sort_by_sales_and_newest(client, ctx):
    _, html = get(client, "?sort=sales")
    best_sellers = db.session.scalars(select(Product.name).where(Product.on_sale(db_now())).order_by(
        Product.sales_count.desc()).limit(3)).all()
    assert names(html)[:3] == best_sellers
    _, html = get(client, "?sort=newest")
    newest = db.session.scalars(select(Product.name).where(Product.on_sale(db_now())).order_by(
        Product.launched_on.desc()).limit(3)).all()
    assert names(html)[:3] == newest


def test_default_sort_puts_featured_first(client, ctx):
    _, html = get(client)
    featured = db.session.scalars(select(Product.name).where(Product.featured, Product.on_sale(db_now()))).all()
    assert set(names(html)[:len(featured)]) == set(featured)


def test_pagination_walks_the_whole_catalog_once(client, ctx):
    seen = []
    for page in (1, 2, 3):
        _, html = get(client, f"?page={page}")
        seen += names(html)
    total = db.session.query(Product).filter(Product.on_sale(db_now())).count()
    assert len(seen) == total == len(set(seen))
    _, html = get(client, "?page=1")
    assert 'href="/products?page=2"' in html and 'aria-current="page">1<' in html


def test_pagination_links_keep_the_filters(client):
    _, html = get(client, "?q=险&sort=price_asc")
    assert 'href="/products?q=%E9%99%A9&amp;sort=price_asc&amp;page=2"' in html


def test_page_past_the_end_shows_the_last_page(client):
    _, last = get(client, "?page=3")
    response, html = get(client, "?page=999")
    assert response.status_code == 200 and names(html) == names(last)


def test_absurd_page_numbers_show_the_last_page(client):
    response, html = get(client, "?page=770000000000000000")
    assert response.status_code == 200 and len(names(html)) > 0


def test_garbage_page_and_sort_fall_back_to_defaults(client):
    response, html = get(client, "?page=abc&sort=cheapest&category=nope")
    assert response.status_code == 200 and len(names(html)) == 12


def test_empty_state_is_helpful(client):
    response, html = get(client, "?q=不存在的产品名")
    assert response.status_code == 200
    assert "没有找到符合条件的产品" in html and "不存在的产品名" in html
    assert 'href="/products"' in html  # a way out


def test_invalid_age_is_refused_on_the_field_and_results_stay(client):
    response, html = get(client, "?age=abc&q=医疗")
    assert response.status_code == 422
    assert re.search(r'id="age-error">请输入 0–120 之间的整数周岁', html)
    assert "安心百万医疗2026" in names(html)  # the other filters still apply
    response, html = get(client, "?age=130")
    assert response.status_code == 422 and "请输入 0–120 之间的整数周岁" in html


def test_too_long_query_is_refused_on_the_field(client):
    response, html = get(client, "?q=" + "医" * 41)
    assert response.status_code == 422 and "搜索词最多 40 个字" in html


def test_htmx_request_gets_only_the_results_block(client):
    full, full_html = get(client, "?q=医疗")
    part, part_html = get(client, "?q=医疗", **HX)
    assert "<html" in full_html and "<html" not in part_html
    assert part_html.lstrip().startswith('<section id="results"')
    assert names(part_html) == names(full_html)
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in part.headers["Vary"]
    # The field errors travel out of band, so the input being typed in is never replaced.
    assert 'id="age-error" hx-swap-oob="true"' in part_html
    assert 'name="q"' not in part_html


def suggested(html):
    return re.findall(r'<li><a href="/products/[^"]+"><strong>([^<]+)</strong>', html)


def test_typing_on_the_home_page_lists_the_first_matches_of_the_catalog_search(client):
    home = client.get("/").get_data(as_text=True)
    box = re.search(r'<input id="home-q"[^>]*>', home).group(0)
    assert 'hx-get="/products"' in box and 'hx-target="#suggestions"' in box and "keyup" not in box
    assert '<div id="suggestions" class="suggestions" aria-live="polite"></div>' in home  # empty, for everyone
    typing = {**HX, "HX-Target": "suggestions", "HX-Trigger": "home-q"}
    response, html = get(client, "?q=医疗", **typing)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="suggestions"')
    assert "<html" not in html and "HX-Target" in response.headers["Vary"]
    _, catalog = get(client, "?q=医疗")
    total = re.search(r"共 <strong>(\d+)</strong> 款产品", catalog).group(1)
    assert suggested(html) == names(catalog)[:5] and "守望定期寿险" not in suggested(html)
    assert f'<a href="/products?q=%E5%8C%BB%E7%96%97">查看全部 {total} 款匹配“医疗”的产品</a>' in html
    _, none = get(client, "?q=火星保险", **typing)
    assert "没有与“火星保险”相关的产品" in none and suggested(none) == []
    _, cleared = get(client, "?q=", **typing)
    assert cleared.strip() == '<div id="suggestions" class="suggestions" aria-live="polite"></div>'
    response, too_long = get(client, "?q=" + "医" * 41, **typing)
    assert response.status_code == 422 and "搜索词最多 40 个字" in too_long
    _, results = get(client, "?q=医疗", **HX)  # the catalog's own typing still gets its results block
    assert results.lstrip().startswith('<section id="results"')


def test_the_home_search_box_without_javascript_opens_the_catalog(client):
    home = client.get("/").get_data(as_text=True)
    form = re.search(r'<form class="hero-search"[^>]*>', home).group(0)
    assert 'action="/products"' in form and 'method="get"' in form
    _, html = get(client, "?q=医疗", **{"HX-Target": "suggestions"})  # a header alone is not htmx
    assert "<html" in html and "安心百万医疗2026" in names(html)


def test_boosted_and_history_restore_requests_get_the_full_page(client):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        _, html = get(client, "?q=医疗", **HX, **extra)
        assert "<html" in html


def test_htmx_invalid_age_answers_422_with_the_error_out_of_band(client):
    response, html = get(client, "?age=-3", **HX)
    assert response.status_code == 422
    assert re.search(r'id="age-error" hx-swap-oob="true">请输入', html)


def test_filter_form_works_without_javascript(client):
    html = client.get("/products").get_data(as_text=True)
    form = re.search(r'<form id="catalog-filter"[^>]*>', html).group(0)
    assert 'action="/products"' in form and 'method="get"' in form
    assert 'hx-push-url="true"' in form
    assert '<button class="button" type="submit">筛选</button>' in html
