"""Buying: an application filled in step by step as the browser would (Buyer), the premium a page shows,
and a car quote's good answers (GOOD)."""
import re

from tests.support.identity import APPLICANT, fix_id
from tests.support.web import token

MEDICAL = "anxin-million-medical"


class Buyer:
    def __init__(self, client, slug=MEDICAL):
        self.client, self.slug = client, slug
        response = client.get(f"/buy/{slug}")
        assert response.status_code == 302
        self.url = response.headers["Location"]  # /buy/<slug>/<number>/1
        self.number = self.url.split("/")[3]

    def page(self, step):
        response = self.client.get(f"/buy/{self.slug}/{self.number}/{step}")
        return response, response.get_data(as_text=True)

    def post(self, step, **data):
        _, page = self.page(step)
        if 'name="csrf_token"' not in page:  # the step is closed; any page's token will do
            page = self.client.get(f"/products/{self.slug}").get_data(as_text=True)
        key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)
        if key and "idempotency_key" not in data:  # the confirm form's key, issued with the page
            data["idempotency_key"] = key.group(1)
        response = self.client.post(f"/buy/{self.slug}/{self.number}/{step}", data={"csrf_token": token(page), **data})
        return response, response.get_data(as_text=True)

    def through(self, last, insured=None, plan="basic"):
        steps = {1: {"plan": plan, "frequency": "annual"}, 2: APPLICANT,
                 3: insured or {"relation": "self", "social_security": "yes"}, 4: {"kind": "statutory"},
                 5: {"q0": "no", "q1": "no", "q2": "no"}, 6: {"acknowledged": "y"}}
        for step in range(1, last + 1):
            response, page = self.post(step, **steps[step])
            assert response.status_code == 302, (step, re.findall(r'class="field-error"[^>]*>([^<]+)<', page))
        return response


def premium(page):
    """The premium a page shows (the calculator's, an application step's)."""
    return re.search(r'data-testid="premium">([^<]+)<', page).group(1)


GOOD = {"plate": "京A12345", "vin": "1M8GDM9AXKP042788", "engine_no": "ABC12345", "owner_name": "李四",
        "owner_id": fix_id("11010119800307123X"), "first_registration": "2020-05-01", "seats": "5",
        "usage": "private", "displacement": "1.6-2.0", "purchase_price": "150000", "claims": "0",
        "third_party": "200", "damage": "y", "passengers": "y"}
