"""经营数据看板: today's and this week's figures counted in Shanghai days (a week from Monday) from rows made at
known times, each against the same stretch of the period before; 14 days of each as a chart with its numbers
said; the empty state; only 运营 may open it; a fixed number of queries whatever the data."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.admin.dashboard import board
from app.admin.roles import ROLES
from app.core.clock import SHANGHAI, db_now
from app.extensions import db
from tests.support.admin_dashboard import shanghai

# Wednesday 13 March 2030, 10:00 in Shanghai: the week began on Monday the 11th; the charts run from 28 February.
# The database is the run's: each test keeps to weeks of its own, which no other test reaches.
WEDNESDAY = datetime(2030, 3, 13, 2, 0, tzinfo=UTC)


def _figure(page, testid):
    match = re.search(rf'data-testid="{testid}">([^<]*)</strong>', page)
    assert match, testid
    return match.group(1)


def _card(page, key):
    start = page.index(f'data-testid="figure-{key}"')
    return page[start:page.index("</section>", start)]


def _text(html):
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


@pytest.fixture()
def wednesday(clock):
    """Moves the clock to WEDNESDAY, or to the Wednesday ``weeks`` later."""
    def move(weeks=0):
        clock.now = WEDNESDAY + timedelta(weeks=weeks)
        return shanghai(*(clock.now.astimezone(SHANGHAI).timetuple()[:3]))
    return move


def test_the_figures_count_shanghai_days_and_compare_the_same_stretch_before(app, wednesday, activity, signed_in):
    wednesday()
    ops, _ = signed_in("ops")
    assert 'data-testid="dashboard-empty"' in ops.client.get("/admin/dashboard").get_data(as_text=True)
    # Applications on both sides of midnight, of 10:00 yesterday, of the week's and the charts' first days.
    for at in [(2030, 3, 12, 23, 59, 59),  # yesterday, after this time of day
               (2030, 3, 13, 0, 0, 0), (2030, 3, 13, 9, 59, 0),  # today
               (2030, 3, 12, 9, 59, 59),  # yesterday before 10:00: compared with today
               (2030, 3, 12, 10, 0, 0),  # yesterday at 10:00: not compared
               (2030, 3, 10, 23, 59, 59),  # last Sunday: last week, after this time of the week
               (2030, 3, 6, 9, 59, 0),  # last Wednesday before 10:00: compared with this week
               (2030, 2, 27, 23, 59, 59),  # before the charts' 14 days
               (2030, 2, 28, 0, 0, 0)]:  # the charts' first day
        activity.application(shanghai(*at))
    activity.order(shanghai(2030, 3, 13, 0, 10), paid=shanghai(2030, 3, 13, 0, 15), amount_fen=35600)
    activity.order(shanghai(2030, 3, 12, 15, 0), paid=shanghai(2030, 3, 12, 15, 5), amount_fen=10000)
    activity.order(shanghai(2030, 3, 12, 8, 0), paid=shanghai(2030, 3, 12, 8, 1), amount_fen=20000)
    activity.order(shanghai(2030, 3, 13, 1, 0))  # not paid
    activity.order(shanghai(2030, 3, 5, 12, 0), paid=shanghai(2030, 3, 5, 12, 3), refunded=shanghai(2030, 3, 13, 9, 0),
                   amount_fen=5000)
    activity.voucher(shanghai(2030, 3, 13, 0, 0), redeemed=shanghai(2030, 3, 13, 9, 30))
    activity.voucher(shanghai(2030, 3, 12, 23, 59, 59))

    page = ops.client.get("/admin/dashboard").get_data(as_text=True)
    assert 'data-testid="dashboard-empty"' not in page
    assert "数据截至 2030-03-13 10:00" in page and "本周自周一（3月11日）起" in page
    figures = {key: (_figure(page, f"today-{key}"), _figure(page, f"week-{key}"))
               for key in ("applications", "orders", "payments", "refunds", "claimed", "redeemed")}
    assert figures == {"applications": ("2", "5"), "orders": ("2", "4"), "payments": ("¥356.00", "¥656.00"),
                       "refunds": ("¥50.00", "¥50.00"), "claimed": ("1", "2"), "redeemed": ("1", "1")}

    applications = _text(_card(page, "applications"))
    assert "今日2份较昨日同时段+1份（+100%）" in applications  # 2 against 1 before 10:00 yesterday
    assert "本周5份较上周同期+4份（+400%）" in applications  # 5 against 1 before Wednesday 10:00 last week
    payments = _text(_card(page, "payments"))
    assert "今日¥356.001笔较昨日同时段+¥156.00（+78%）" in payments
    assert "本周¥656.003笔较上周同期+¥606.00（+1212%），+2笔" in payments
    refunds = _text(_card(page, "refunds"))
    assert "今日¥50.001笔较昨日同时段+¥50.00，+1笔" in refunds  # nothing before: no percentage
    orders = _text(_card(page, "orders"))
    assert "今日2笔较昨日同时段+1笔（+100%）" in orders and "本周4笔较上周同期+3笔（+300%）" in orders

    # The chart's days, in its table and its description: 12 March holds three, 27 February is not shown.
    card = _card(page, "applications")
    assert "<th scope=\"row\">3月12日</th><td>3</td>" in card
    assert "<th scope=\"row\">2月28日</th><td>1</td>" in card and "2月27日" not in card
    assert "<th scope=\"row\">3月13日（今天）</th><td>2</td>" in card
    assert "2月28日至3月13日每日开始投保数：合计8份；最多的一天是3月12日，3份；今天2份" in card
    assert card.count('<rect class="chart-bar') == 14
    payments_card = _card(page, "payments")
    assert "<th scope=\"row\">3月12日</th><td>2</td><td>¥300.00</td>" in payments_card
    assert "<th scope=\"row\">3月5日</th><td>1</td><td>¥50.00</td>" in payments_card


def test_a_day_without_anything_before_reads_as_level_or_down(app, wednesday, activity, signed_in):
    midnight = wednesday(weeks=10)
    ops, _ = signed_in("ops")
    assert 'data-testid="dashboard-empty"' in ops.client.get("/admin/dashboard").get_data(as_text=True)
    activity.voucher(midnight - timedelta(hours=16))  # claimed yesterday at 08:00, nothing today
    claimed = _text(_card(ops.client.get("/admin/dashboard").get_data(as_text=True), "claimed"))
    assert "今日0张较昨日同时段-1张（-100%）" in claimed
    assert "本周1张较上周同期+1张" in claimed
    assert "今日0份较昨日同时段持平" in _text(_card(ops.client.get("/admin/dashboard").get_data(as_text=True),
                                                     "applications"))


def test_with_nothing_in_fourteen_days_the_page_says_so(app, clock, signed_in):
    clock.now = datetime(2041, 5, 6, 4, 0, tzinfo=UTC)
    ops, _ = signed_in("ops")
    response = ops.client.get("/admin/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="dashboard-empty"' in page and "近14天还没有经营数据" in page
    assert "<svg" not in page


def test_the_figures_take_two_queries_each_whatever_the_data(app, wednesday, activity):
    midnight = wednesday(weeks=20)
    for hour in range(6):
        activity.application(midnight + timedelta(hours=hour))
        activity.order(midnight - timedelta(days=2, hours=-hour), paid=midnight - timedelta(days=2, hours=-hour, minutes=-5))
    statements = []
    with app.app_context():
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            _periods, figures = board(db_now())
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
    selects = [sql for sql in statements if sql.startswith("SELECT")]
    assert len(selects) == 2 * len(figures) == 12
    assert sum("GROUP BY" in sql for sql in selects) == 6
    assert figures[0].today.now.count == 6 and figures[2].week.now.count == 6


@pytest.mark.parametrize("role", [*ROLES, "none"])
def test_only_operators_open_the_dashboard(app, role, signed_in):
    browser, _ = signed_in(*([] if role == "none" else [role]))
    response = browser.client.get("/admin/dashboard")
    home = browser.client.get("/admin/").get_data(as_text=True)
    if role == "ops":
        assert response.status_code == 200 and "经营数据看板" in response.get_data(as_text=True)
        assert 'href="/admin/dashboard"' in home
    else:
        page = response.get_data(as_text=True)
        assert response.status_code == 403 and "无权访问" in page and "需要：查看经营数据看板" in page
        assert 'data-testid="today-' not in page and "<svg" not in page
        assert 'href="/admin/dashboard"' not in home
