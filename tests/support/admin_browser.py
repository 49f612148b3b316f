"""The back office in Chromium: an axe-core checker for its pages, and a browser context signed in as a staff
member. Fixtures ``site`` and ``width`` are tests/admin/conftest.py's."""
import os
import re

from axe_playwright_python.sync_playwright import Axe

WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
AXE = Axe()


class Checker:
    """Visits pages, runs axe-core on each, keeps every violation so one run lists them all."""

    def __init__(self, page, site, width):
        self.page, self.site, self.width, self.problems, self.seen = page, site, width, [], []

    def visit(self, path, status=200, name=None):
        response = self.page.goto(self.site + path)
        assert response.status == status, (path, response.status)
        self.check(name or path)

    def check(self, where):
        self.page.wait_for_load_state("networkidle")
        self.seen.append(where)
        for v in AXE.run(self.page).response["violations"]:
            targets = "; ".join(" >> ".join(map(str, node["target"])) for node in v["nodes"][:3])
            self.problems.append(f"{where} @{self.width}px: {v['id']} [{v['impact']}] {targets} -- {v['help']}")
        shots = os.environ.get("ADMIN_SCREENSHOTS")
        if shots:
            os.makedirs(shots, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9]+", "-", where).strip("-") or "page"
            self.page.screenshot(path=os.path.join(shots, f"{name}-{self.width}.png"), full_page=True)

    def assert_clean(self):
        assert self.seen
        assert not self.problems, "axe-core found:\n" + "\n".join(self.problems)


def signed_in_context(browser, site, width, client):
    """A new browser context at ``width`` carrying the back-office session of a signed-in test client."""
    context = browser.new_context(viewport=WIDTHS[width], locale="zh-CN", is_mobile=width == "390")
    cookie = client.get_cookie("admin_session", path="/admin")
    context.add_cookies([{"name": "admin_session", "value": cookie.value, "url": site + "/admin"}])
    return context
