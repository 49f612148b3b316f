"""Visitor-independent fragments are reused for PAGE_CACHE_SECONDS, then rebuilt from the database."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from app import create_app
from app.catalog.models import Product
from app.extensions import db
from tests.support.clock import NOW
from tests.support.config import TEST_CONFIG
from tests.support.web import HX, count_queries


@pytest.fixture()
def cached_app(app, database_url):  # app: the migrated, seeded database
    clock = {"now": NOW}
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "PAGE_CACHE_SECONDS": 30,
                      "CLOCK": lambda: clock["now"]})
    app.clock = clock
    yield app
    with app.app_context():
        db.session.execute(update(Product).where(Product.slug == "anxin-million-medical")
                           .values(name="安心百万医疗2026"))
        db.session.commit()
        db.engine.dispose()


def rename(app, name):
    with app.app_context():
        db.session.execute(update(Product).where(Product.slug == "anxin-million-medical").values(name=name))
        db.session.commit()


SUGGESTIONS = {**HX, "HX-Target": "suggestions"}  # typing in the home page's search box


@pytest.mark.parametrize("path, headers", [("/products?q=医疗", {}), ("/products?q=医疗", HX), ("/", {}),
                                           ("/products?q=医疗", SUGGESTIONS),
                                           ("/products/anxin-million-medical", {})])
def test_catalog_fragments_are_reused_until_they_expire(cached_app, path, headers):
    client = cached_app.test_client()
    assert "安心百万医疗2026" in client.get(path, headers=headers).get_data(as_text=True)
    with cached_app.app_context(), count_queries(db.engine) as statements:
        again = client.get(path, headers=headers)
    assert statements == [] and "安心百万医疗2026" in again.get_data(as_text=True)

    rename(cached_app, "安心百万医疗2027")
    cached_app.clock["now"] = NOW + timedelta(seconds=29)
    assert "安心百万医疗2026" in client.get(path, headers=headers).get_data(as_text=True)
    cached_app.clock["now"] = NOW + timedelta(seconds=31)
    assert "安心百万医疗2027" in client.get(path, headers=headers).get_data(as_text=True)


def test_a_fragment_and_a_full_page_are_cached_apart(cached_app):
    client = cached_app.test_client()
    client.get("/products?q=医疗", headers=HX)
    full = client.get("/products?q=医疗").get_data(as_text=True)
    assert "<html" in full and 'hx-swap-oob' not in full
    part = client.get("/products?q=医疗", headers=HX).get_data(as_text=True)
    assert "<html" not in part and 'hx-swap-oob="true"' in part
    short = client.get("/products?q=医疗", headers=SUGGESTIONS).get_data(as_text=True)
    assert short.lstrip().startswith('<div id="suggestions"')  # the home page's list, not the results
    assert client.get("/products?q=医疗", headers=HX).get_data(as_text=True) == part


def test_errors_are_never_cached(cached_app):
    client = cached_app.test_client()
    assert client.get("/products?age=abc").status_code == 422
    with cached_app.app_context(), count_queries(db.engine) as statements:
        again = client.get("/products?age=abc")
    assert again.status_code == 422 and "请输入 0–120 之间的整数周岁" in again.get_data(as_text=True)
    assert statements  # rendered afresh, not served from the cache
