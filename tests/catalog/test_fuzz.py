"""Random query strings never make the catalog answer 500."""
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["q", "category", "age", "sort", "page", "x"]
values = st.one_of(st.text(max_size=60), st.integers(-10**12, 10**12).map(str),
                   st.sampled_from(["medical", "price_asc", "newest", "0", "70", "", "%", "_", "\\", "\x00"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.lists(st.tuples(st.sampled_from(KEYS), values), max_size=6), htmx=st.booleans())
def test_random_catalog_queries_never_fail(client, params, htmx):
    response = client.get("/products?" + urlencode(params), headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code in (200, 422)
    assert "共 <strong>" in response.get_data(as_text=True) or "没有找到" in response.get_data(as_text=True)
