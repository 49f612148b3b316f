"""经营数据看板 (运营): the figures of dashboard.py, each with its chart of the last 14 days."""
from flask import render_template

from app.admin import auth as staff_auth
from app.admin import bp, charts
from app.admin.access import requires, section
from app.admin.dashboard import DAYS, Total, board
from app.core.clock import db_now
from app.core.money import format_yuan

section("数据看板", "admin.dashboard", "dashboard.view", position=10)


def _day(day):
    return f"{day.month}月{day.day}日"


def _amount(figure, total):
    """What a day's figure reads as: 3笔 · ¥1,068.00, or 5份."""
    text = f"{total.count}{figure.metric.unit}"
    return f"{text} · {format_yuan(total.fen)}" if figure.money else text


def chart(figure, periods):
    """The figure's last 14 days as an SVG bar chart (amounts for money, counts otherwise), its numbers said."""
    values = [total.fen if figure.money else total.count for _day, total in figure.days]
    what = f"每日{figure.metric.label}{'金额' if figure.money else '数'}"
    span = f"{_day(periods.first_day)}至{_day(periods.today)}"
    if figure.empty:
        description = f"{span}{what}均为0"
    else:
        busiest, most = max(figure.days, key=lambda item: (item[1].fen if figure.money else item[1].count, item[0]))
        total = sum((t for _d, t in figure.days), Total())
        description = (f"{span}{what}：合计{_amount(figure, total)}；最多的一天是{_day(busiest)}，{_amount(figure, most)}；"
                       f"今天{_amount(figure, figure.today.now)}")
    return charts.bars(values, chart_id=f"chart-{figure.metric.key}", title=f"近{DAYS}天{what}",
                       description=description, tips=[f"{_day(day)}：{_amount(figure, total)}" for day, total in figure.days],
                       first_label=_day(periods.first_day), last_label="今天")


@bp.get("/dashboard")
@requires("dashboard.view")
def dashboard():
    """Today's and this week's figures against the same stretch before, and the last 14 days of each."""
    periods, figures = board(db_now())
    return render_template("admin/dashboard.html", staff=staff_auth.current_staff(), periods=periods, figures=figures,
                           empty=all(figure.empty for figure in figures), chart=chart, days=DAYS)
