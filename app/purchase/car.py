"""The car-insurance quote: 交强险 from the statutory base and the claim-history factor, 车船税 by
displacement (new-energy cars exempt), and 商业险 lines from the rating tables, each with its reasons."""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from app.core.money import format_yuan, round_fen
from app.extensions import db, shared_cache
from app.purchase.models import CarRate

USAGES = {"private": "家庭自用", "ride_hailing": "网约车（营运）"}
DISPLACEMENTS = {"le1.0": "1.0L及以下", "1.0-1.6": "1.0L–1.6L", "1.6-2.0": "1.6L–2.0L", "2.0-2.5": "2.0L–2.5L",
                 "2.5-3.0": "2.5L–3.0L", "3.0-4.0": "3.0L–4.0L", "gt4.0": "4.0L以上"}
CLAIMS = {"0": "0次", "1": "1次", "2": "2次", "3+": "3次及以上"}
THIRD_PARTY = {"": "不投保", "100": "100万", "200": "200万", "300": "300万"}
SEAT_COVER_FEN = 1_0000_00  # 车上人员: 1万元 each seat


@dataclass
class Line:
    name: str
    premium_fen: int
    steps: list[str] = field(default_factory=list)


@dataclass
class CarQuote:
    lines: list[Line]
    new_energy: bool

    @property
    def total_fen(self):
        return sum(line.premium_fen for line in self.lines)


def rates():
    """{(table, key): CarRate}, shared for PAGE_CACHE_SECONDS (the tables change only with a filing)."""
    def load():
        rows = db.session.scalars(select(CarRate)).all()
        for row in rows:
            db.session.expunge(row)
        return {(row.table, row.key): row for row in rows}
    return shared_cache.get_or_make("car-rates", load)


def _factor(row):
    return Decimal(row.factor_permille) / 1000


def quote(*, seats, usage, displacement, claims, new_car, new_energy, purchase_price_fen, third_party,
          damage, passengers):
    table = rates()
    band = "ge6" if seats >= 6 else "lt6"
    lines = []

    base = table[("compulsory_base", f"{usage}-{band}")]
    history = table[("compulsory_claims", "new" if new_car else claims)]
    compulsory = round_fen(Decimal(base.amount_fen) * _factor(history))
    lines.append(Line("交强险", compulsory, [
        f"基础保费：{base.label} {format_yuan(base.amount_fen)}",
        f"浮动比率：{history.label} × {_factor(history):.2f}",
        f"= {format_yuan(compulsory)}（四舍五入到分）"]))

    if new_energy:
        lines.append(Line("车船税", 0, ["新能源汽车免征车船税"]))
    else:
        tax = table[("vehicle_tax", displacement)]
        lines.append(Line("车船税", tax.amount_fen, [f"按排量 {tax.label} 年税额 {format_yuan(tax.amount_fen)}"]))

    ncd = table[("commercial_ncd", "new" if new_car else claims)]
    use = table[("commercial_usage", usage)]
    adjust = _factor(ncd) * _factor(use)
    adjust_text = f"无赔款优待 {ncd.label} × {_factor(ncd):.2f}，{use.label} × {_factor(use):.2f}"

    if third_party:
        row = table[("third_party", f"{third_party}-{band}")]
        premium = round_fen(Decimal(row.amount_fen) * adjust)
        lines.append(Line(f"第三者责任险 {THIRD_PARTY[third_party]}", premium, [
            f"基准保费：{row.label} {format_yuan(row.amount_fen)}", adjust_text, f"= {format_yuan(premium)}"]))
    if damage:
        base_row = table[("damage", "base")]
        rate = table[("damage", "rate")]
        raw = Decimal(base_row.amount_fen) + Decimal(purchase_price_fen) * _factor(rate) / 100
        premium = round_fen(raw * adjust)
        lines.append(Line("车损险", premium, [
            f"基础保费 {format_yuan(base_row.amount_fen)} + 新车购置价 {format_yuan(purchase_price_fen)} × "
            f"{_factor(rate):.2f}% = {format_yuan(round_fen(raw))}", adjust_text, f"= {format_yuan(premium)}"]))
    if passengers:
        row = table[("passenger", "per_seat")]
        raw = Decimal(row.amount_fen) * seats
        premium = round_fen(raw * adjust)
        lines.append(Line(f"车上人员责任险 每座{SEAT_COVER_FEN // 1_0000_00}万", premium, [
            f"每座 {format_yuan(row.amount_fen)} × {seats}座 = {format_yuan(round_fen(raw))}", adjust_text,
            f"= {format_yuan(premium)}"]))
    return CarQuote(lines, new_energy)


# The demo insurer's filed tables (amounts in yuan; factors as decimals), loaded by `flask seed-demo`.
DEMO_RATES = [
    ("compulsory_base", "private-lt6", "家庭自用 6座以下", 950, None),
    ("compulsory_base", "private-ge6", "家庭自用 6座及以上", 1100, None),
    ("compulsory_base", "ride_hailing-lt6", "营运 6座以下", 1800, None),
    ("compulsory_base", "ride_hailing-ge6", "营运 6座及以上", 2360, None),
    ("compulsory_claims", "new", "新车（无往年记录）", None, 1000),
    ("compulsory_claims", "0", "上年无有责事故", None, 900),
    ("compulsory_claims", "1", "上年1次有责事故", None, 1000),
    ("compulsory_claims", "2", "上年2次有责事故", None, 1100),
    ("compulsory_claims", "3+", "上年3次及以上有责事故", None, 1100),
    ("vehicle_tax", "le1.0", "1.0L及以下", 300, None),
    ("vehicle_tax", "1.0-1.6", "1.0L–1.6L", 420, None),
    ("vehicle_tax", "1.6-2.0", "1.6L–2.0L", 480, None),
    ("vehicle_tax", "2.0-2.5", "2.0L–2.5L", 900, None),
    ("vehicle_tax", "2.5-3.0", "2.5L–3.0L", 1920, None),
    ("vehicle_tax", "3.0-4.0", "3.0L–4.0L", 3480, None),
    ("vehicle_tax", "gt4.0", "4.0L以上", 5280, None),
    ("commercial_ncd", "new", "新车", None, 1000),
    ("commercial_ncd", "0", "上年无出险", None, 850),
    ("commercial_ncd", "1", "上年出险1次", None, 1000),
    ("commercial_ncd", "2", "上年出险2次", None, 1250),
    ("commercial_ncd", "3+", "上年出险3次及以上", None, 1500),
    ("commercial_usage", "private", "家庭自用", None, 1000),
    ("commercial_usage", "ride_hailing", "营运", None, 1600),
    ("third_party", "100-lt6", "100万 6座以下", 1120, None),
    ("third_party", "100-ge6", "100万 6座及以上", 1030, None),
    ("third_party", "200-lt6", "200万 6座以下", 1460, None),
    ("third_party", "200-ge6", "200万 6座及以上", 1340, None),
    ("third_party", "300-lt6", "300万 6座以下", 1720, None),
    ("third_party", "300-ge6", "300万 6座及以上", 1580, None),
    ("damage", "base", "车损险基础保费", 1050, None),
    ("damage", "rate", "车损险费率（占新车购置价）", None, 1150),  # 1.15%
    ("passenger", "per_seat", "车上人员每座（1万）", 27, None),
]


def seed_car_rates():
    """The demo tables; rows already there are left alone. Returns how many were created."""
    existing = {(r.table, r.key) for r in db.session.scalars(select(CarRate))}
    created = 0
    for table, key, label, yuan, permille in DEMO_RATES:
        if (table, key) not in existing:
            db.session.add(CarRate(table=table, key=key, label=label,
                                   amount_fen=None if yuan is None else yuan * 100, factor_permille=permille))
            created += 1
    return created
