"""经营数据看板 (运营): today's and this week's applications started, orders created, payments, refunds and
vouchers claimed and redeemed, each against the same stretch of the period before, and each one's last 14 days.

Days are Asia/Shanghai days and a week starts on Monday; stored times are naive UTC. Each figure is two
queries over the last 14 days of its table, whatever the table's size: one GROUP BY the Shanghai day (the
chart, today and this week), one summing the two earlier stretches (yesterday until this time of day, last week
until this time of the week), so a comparison is never of a whole day with a day begun.
"""
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.core.clock import SHANGHAI, to_local
from app.extensions import db
from app.orders.models import Order
from app.purchase.models import Application
from app.vouchers.models import Voucher

DAYS = 14  # the charts' days, today included: this week and last week always fall within them
OFFSET_HOURS = 8  # Asia/Shanghai is UTC+8 all year (no daylight saving since 1991)


class shanghai_day(FunctionElement):  # noqa: N801  (a SQL function, named as one)
    """The Asia/Shanghai date of a naive UTC time, computed by the database (SQLite or PostgreSQL)."""
    type = Date()
    name = "shanghai_day"
    inherit_cache = True


@compiles(shanghai_day, "sqlite")
def _sqlite_day(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+{OFFSET_HOURS} hours')"


@compiles(shanghai_day, "postgresql")
def _postgresql_day(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} + INTERVAL '{OFFSET_HOURS} hours' AS DATE)"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    at: object  # the column whose (naive UTC) time counts the row
    amount: object = None  # the column of fen summed beside the count, if any
    note: str = ""


METRICS = (
    Metric("applications", "开始投保", "份", Application.created_at, note="新开始填写的投保单"),
    Metric("orders", "创建订单", "笔", Order.created_at, note="确认投保后生成的订单，含未支付的"),
    Metric("payments", "支付", "笔", Order.paid_at, Order.amount_fen,
           note="支付成功的订单（重复支付已原路退回，不计入）"),
    Metric("refunds", "退款", "笔", Order.refunded_at, Order.amount_fen, note="犹豫期退保，以退款到账的时间计"),
    Metric("claimed", "领取权益券", "张", Voucher.claimed_at),
    Metric("redeemed", "核销权益券", "张", Voucher.redeemed_at, note="在合作门店使用"),
)


@dataclass(frozen=True)
class Total:
    count: int = 0
    fen: int = 0

    def __add__(self, other):
        return Total(self.count + other.count, self.fen + other.fen)


@dataclass(frozen=True)
class Change:
    """A figure against the same stretch of the period before."""
    now: Total
    before: Total

    def delta(self, money=False):
        return (self.now.fen - self.before.fen) if money else (self.now.count - self.before.count)

    def percent(self, money=False):
        """The change in whole percent; None when there was nothing before to compare with."""
        before = self.before.fen if money else self.before.count
        return round(self.delta(money) * 100 / before) if before else None


@dataclass
class Figure:
    metric: Metric
    today: Change
    week: Change
    days: list = field(default_factory=list)  # [(date, Total)], oldest first, DAYS of them

    @property
    def money(self):
        return self.metric.amount is not None

    @property
    def empty(self):
        return not any(total.count for _day, total in self.days)


@dataclass(frozen=True)
class Periods:
    """The day and the week the figures are of (Shanghai days), at ``now`` (naive UTC)."""
    now: datetime
    today: date
    week_start: date  # Monday

    @property
    def first_day(self):
        return self.today - timedelta(days=DAYS - 1)

    @property
    def days(self):
        return [self.first_day + timedelta(days=n) for n in range(DAYS)]


def utc_start(day):
    """The naive UTC time a Shanghai day starts at."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)


def periods(now):
    today = to_local(now).date()
    return Periods(now=now, today=today, week_start=today - timedelta(days=today.weekday()))


def _fen(metric, inside=None):
    """The fen summed (0 for a metric without an amount), of the rows ``inside`` when given."""
    if metric.amount is None:
        return literal_column("0")
    amount = metric.amount if inside is None else case((inside, metric.amount), else_=0)
    return func.coalesce(func.sum(amount), 0)


def _by_day(metric, p):
    """{date: Total} over the charts' days (days without a row are absent)."""
    day = shanghai_day(metric.at)
    rows = db.session.execute(
        select(day, func.count(), _fen(metric))
        .where(metric.at >= utc_start(p.first_day), metric.at < utc_start(p.today + timedelta(days=1)))
        .group_by(day)).all()
    return {value: Total(count, int(fen)) for value, count, fen in rows}


def _earlier(metric, p):
    """Yesterday until this time of day, and last week until this time of the week, as Totals."""
    stretches = ((utc_start(p.today - timedelta(days=1)), p.now - timedelta(days=1)),
                 (utc_start(p.week_start - timedelta(days=7)), p.now - timedelta(days=7)))
    columns = []
    for start, end in stretches:
        inside = and_(metric.at >= start, metric.at < end)
        columns += [func.count(case((inside, 1))), _fen(metric, inside)]
    row = db.session.execute(select(*columns).where(metric.at >= stretches[1][0], metric.at < stretches[0][1])).one()
    return Total(row[0], int(row[1])), Total(row[2], int(row[3]))


def board(now):
    """The figures at ``now`` (naive UTC), one a metric, in METRICS' order."""
    p = periods(now)
    figures = []
    for metric in METRICS:
        by_day = _by_day(metric, p)
        days = [(day, by_day.get(day, Total())) for day in p.days]
        today = by_day.get(p.today, Total())
        week = sum((total for day, total in days if day >= p.week_start), Total())
        yesterday, last_week = _earlier(metric, p)
        figures.append(Figure(metric, Change(today, yesterday), Change(week, last_week), days))
    return p, figures
