"""Rate tables in the back office: read an imported file (CSV or XLSX), check it against the product before
anything is saved, compare it with the table in force, keep it waiting for approval, approve it with the
time it takes effect (or send it back).

The file has one row per plan × age band (× gender × 社保 where the product is priced by them), under the
header COLUMNS; the premium is in yuan with at most two decimals and is stored as exact fen. A file is
refused whole, with every problem found (up to MAX_PROBLEMS) and the line it is on, unless every plan, age
the product accepts, gender and 社保 has exactly one row.
"""
import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select, update

from app.catalog.models import GENDERS, Plan, Product, RateRow, RateTable
from app.catalog.services import refresh_prices, table_prices
from app.core.domain import DomainError
from app.core.forms import forbidden_characters
from app.core.money import parse_yuan, yuan_text
from app.core.review import check_reviewer
from app.extensions import db

COLUMNS = ("方案代码", "最低年龄", "最高年龄", "性别", "社保", "年缴保费（元）")
MAX_BYTES = 512 * 1024
MAX_ROWS = 5000
MAX_PROBLEMS = 30
GENDER_WORDS = {"男": "M", "女": "F"}
SOCIAL_WORDS = {"有": True, "有社保": True, "是": True, "无": False, "无社保": False, "否": False}
ANY = ("", "不限")


class RateFileError(DomainError):
    """A file that cannot be imported; ``problems`` lists what is wrong, each with its line."""

    def __init__(self, problems):
        super().__init__(problems[0], "file")
        self.problems = problems


class RateTableError(DomainError):
    pass


# Reading the file


def read_rows(filename, content):
    """(line number, [cells as text]) of the file's data rows, after the header. Raises RateFileError."""
    if not content:
        raise RateFileError(["文件是空的，请选择填好的费率表"])
    if len(content) > MAX_BYTES:
        raise RateFileError([f"文件过大（最大 {MAX_BYTES // 1024} KB），请只保留费率表本身"])
    if content[:4] == b"PK\x03\x04":
        lines = _xlsx_lines(content)
    elif (filename or "").lower().endswith((".xlsx", ".xls")):
        raise RateFileError(["无法读取该 Excel 文件，请另存为 .xlsx 或 CSV 后再导入"])
    else:
        lines = _csv_lines(content)
    lines = [(number, cells) for number, cells in lines if any(cell for cell in cells)]
    if not lines:
        raise RateFileError(["文件是空的，请选择填好的费率表"])
    number, header = lines[0]
    header = list(header)
    while header and not header[-1]:
        header.pop()
    if tuple(header) != COLUMNS:
        raise RateFileError([f"第 {number} 行：表头应为「{'、'.join(COLUMNS)}」，请使用下载的模板"])
    rows = lines[1:]
    if not rows:
        raise RateFileError(["文件只有表头，没有费率"])
    if len(rows) > MAX_ROWS:
        raise RateFileError([f"费率行过多（最多 {MAX_ROWS} 行）"])
    return rows


def _text(cell):
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def _csv_lines(content):
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told otherwise
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RateFileError(["无法识别文件编码，请另存为 UTF-8 编码的 CSV 或 .xlsx"])
    if "\x00" in text:
        raise RateFileError(["这不是 CSV 文本文件，请另存为 CSV 或 .xlsx 后再导入"])
    try:
        return [(reader_line, [_text(cell) for cell in cells])
                for reader_line, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)]
    except csv.Error as error:
        raise RateFileError([f"CSV 格式有误：{error}"]) from error


def _xlsx_lines(content):
    from openpyxl import load_workbook  # only the import needs it

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001  (whatever a malformed or hostile file makes the reader raise)
        raise RateFileError(["无法读取该 Excel 文件，请另存为 .xlsx 或 CSV 后再导入"]) from error
    try:
        sheet = book.worksheets[0]
        lines = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True, max_col=len(COLUMNS) + 5), start=1):
            if number > MAX_ROWS + 1:
                raise RateFileError([f"费率行过多（最多 {MAX_ROWS} 行）"])
            lines.append((number, [_text(cell) for cell in cells]))
        return lines
    finally:
        book.close()


# Checking it against the product


@dataclass
class Parsed:
    rows: list[RateRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, number, message):
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"第 {number} 行：{message}" if number else message)


def _integer(text):
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else None


def parse(product: Product, plans, lines) -> list[RateRow]:
    """RateRows (not added to the session) for every line, or RateFileError with each problem found."""
    parsed = Parsed()
    by_code = {plan.code: plan for plan in plans}
    seen = {}
    for number, cells in lines:
        cells = (cells + [""] * len(COLUMNS))[:len(COLUMNS)]
        if any(forbidden_characters(cell) for cell in cells):
            parsed.problem(number, "含有无法识别的字符")
            continue
        code, low_text, high_text, gender_text, social_text, amount_text = cells
        plan = by_code.get(code)
        if plan is None:
            parsed.problem(number, f"方案代码「{code[:20]}」不是本产品的方案（本产品：{'、'.join(by_code)}）")
            continue
        low, high = _integer(low_text), _integer(high_text)
        if low is None or high is None:
            parsed.problem(number, "年龄须为整数周岁")
            continue
        if low > high:
            parsed.problem(number, f"最低年龄 {low} 大于最高年龄 {high}")
            continue
        if low < product.age_min or high > product.age_max:
            parsed.problem(number, f"年龄 {low}–{high} 超出本产品承保的 {product.age_min}–{product.age_max} 周岁")
            continue
        try:
            gender = _factor(product.priced_by_gender, gender_text, GENDER_WORDS, "性别须填「男」或「女」", "性别")
            social = _factor(product.priced_by_social_security, social_text, SOCIAL_WORDS, "社保须填「有」或「无」",
                             "社保")
        except ValueError as error:
            parsed.problem(number, str(error))
            continue
        try:
            amount = parse_yuan(amount_text)
        except ValueError as error:
            parsed.problem(number, f"年缴保费：{error}")
            continue
        if amount <= 0:
            parsed.problem(number, "年缴保费须大于 0")
            continue
        key = (plan.code, gender, social)
        for other_number, other_low, other_high in seen.get(key, []):
            if low <= other_high and other_low <= high:
                parsed.problem(number, f"年龄 {low}–{high} 与第 {other_number} 行的 {other_low}–{other_high} 重叠"
                                       f"（{_combination(plan, gender, social)}）")
                break
        else:
            seen.setdefault(key, []).append((number, low, high))
            parsed.rows.append(RateRow(plan_id=plan.id, age_min=low, age_max=high, gender=gender,
                                       social_security=social, annual_premium_fen=amount))
    if not parsed.problems:
        _gaps(product, plans, seen, parsed)
    if parsed.problems:
        raise RateFileError(parsed.problems)
    return parsed.rows


def _factor(priced_by, text, words, message, name):
    """A gender or 社保 cell: one of ``words`` where the product is priced by it, else blank (None)."""
    if priced_by:
        if text not in words:
            raise ValueError(message)
        return words[text]
    if text not in ANY:
        raise ValueError(f"本产品不按{name}定价，{name}一栏请留空")
    return None


def _combination(plan, gender, social):
    parts = [plan.name]
    if gender:
        parts.append(GENDERS[gender])
    if social is not None:
        parts.append("有社保" if social else "无社保")
    return " · ".join(parts)


def _gaps(product, plans, seen, parsed):
    """Every plan × gender × 社保 the product prices must cover every age it accepts."""
    genders = list(GENDERS) if product.priced_by_gender else [None]
    socials = [True, False] if product.priced_by_social_security else [None]
    for plan in plans:
        for gender in genders:
            for social in socials:
                bands = sorted((low, high) for _number, low, high in seen.get((plan.code, gender, social), []))
                name = _combination(plan, gender, social)
                if not bands:
                    parsed.problem(None, f"缺少「{name}」的费率")
                    continue
                expected = product.age_min
                for low, high in bands:
                    if low > expected:
                        parsed.problem(None, f"「{name}」缺少 {expected}–{low - 1} 周岁的费率")
                    expected = max(expected, high + 1)
                if expected <= product.age_max:
                    parsed.problem(None, f"「{name}」缺少 {expected}–{product.age_max} 周岁的费率")


# Comparing with the table in force


@dataclass
class Change:
    plan: str
    label: str
    before: int | None  # None: a row the table in force does not have
    after: int | None  # None: a row the new table does not have

    @property
    def permille(self):
        if not self.before or self.after is None:
            return None
        return round((self.after - self.before) * 1000 / self.before)


@dataclass
class Diff:
    changes: list[Change]
    unchanged: int

    @property
    def raised(self):
        return sum(1 for c in self.changes if c.before and c.after and c.after > c.before)

    @property
    def lowered(self):
        return sum(1 for c in self.changes if c.before and c.after and c.after < c.before)

    @property
    def added(self):
        return sum(1 for c in self.changes if c.before is None)

    @property
    def removed(self):
        return sum(1 for c in self.changes if c.after is None)


def _key(row):
    return (row.plan_id, row.age_min, row.age_max, row.gender or "", row.social_security)


def diff(plans, before_rows, after_rows) -> Diff:
    """Row by row (plan, age band, gender, 社保): what changes from the table in force to this one."""
    names = {plan.id: plan.name for plan in plans}
    order = {plan.id: plan.position for plan in plans}
    before = {_key(row): row for row in before_rows}
    after = {_key(row): row for row in after_rows}
    changes, unchanged = [], 0
    for key in sorted(before.keys() | after.keys(),
                      key=lambda k: (order.get(k[0], 0), k[1], k[3], k[4] is False, k[4] is None)):
        old, new = before.get(key), after.get(key)
        if old and new and old.annual_premium_fen == new.annual_premium_fen:
            unchanged += 1
            continue
        row = new or old
        changes.append(Change(names.get(key[0], ""), row.label, old.annual_premium_fen if old else None,
                              new.annual_premium_fen if new else None))
    return Diff(changes, unchanged)


# The workflow


def plans_of(product):
    return db.session.scalars(select(Plan).where(Plan.product_id == product.id).order_by(Plan.position)).all()


def in_force(product_id, now):
    """The approved table in force at ``now``, or None."""
    return db.session.scalar(
        select(RateTable).where(RateTable.product_id == product_id, RateTable.state == "approved",
                                RateTable.effective_at <= now)
        .order_by(RateTable.effective_at.desc(), RateTable.id.desc()).limit(1))


def tables_of(product_id):
    return db.session.scalars(select(RateTable).where(RateTable.product_id == product_id)
                              .order_by(RateTable.created_at.desc(), RateTable.id.desc())).all()


def import_table(product, staff, *, filename, content, note, now):
    """Check the file and, only if all of it is right, keep it as a table waiting for approval. Raises
    RateFileError (nothing saved)."""
    plans = plans_of(product)
    if not plans:
        raise RateFileError(["本产品还没有保障方案，请先在产品资料中添加方案"])
    rows = parse(product, plans, read_rows(filename, content))
    table = RateTable(product_id=product.id, state="pending", source_name=(filename or "")[-120:], note=note,
                      price_from_fen=table_prices(rows), prepared_by_id=staff.id, created_at=now)
    table.rows = rows
    db.session.add(table)
    db.session.flush()
    return table


def approve(table, staff, *, effective_at, now):
    """Approved by someone other than its preparer, in force from ``effective_at`` (not before now). One of two
    reviewers at once wins; the other gets RateTableError."""
    check_reviewer(table.prepared_by_id, staff)
    if effective_at < now.replace(second=0, microsecond=0):
        raise RateTableError("生效时间不能早于现在", "effective_at")
    _decide(table, staff, now, state="approved", effective_at=max(effective_at, now))
    refresh_prices(now, [table.product_id])


def reject(table, staff, *, reason, now):
    check_reviewer(table.prepared_by_id, staff)
    _decide(table, staff, now, state="rejected", review_note=reason)


def withdraw(table, staff, *, now):
    """The preparer takes back a table nobody has decided on yet."""
    if table.prepared_by_id != staff.id:
        raise RateTableError("只有提交人可以撤回", "reason")
    _decide(table, None, now, state="rejected", review_note="提交人已撤回")


def _decide(table, staff, now, **values):
    done = db.session.execute(
        update(RateTable).where(RateTable.id == table.id, RateTable.state == "pending")
        .values(reviewed_by_id=staff.id if staff else None, reviewed_at=now, **values)
        .execution_options(synchronize_session=False)).rowcount
    if not done:
        raise RateTableError("这份费率表已被处理，请刷新页面查看", "reason")
    db.session.refresh(table)


def csv_of(product, table, plans) -> str:
    """The table as a file in the import format: the template an operator edits for the next one (with no
    table yet, one row per plan, gender and 社保 over all the product's ages, the premium left blank)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    codes = {plan.id: plan.code for plan in plans}
    if table is None:
        for plan in plans:
            for gender in (list(GENDERS) if product.priced_by_gender else [None]):
                for social in ([True, False] if product.priced_by_social_security else [None]):
                    writer.writerow([plan.code, product.age_min, product.age_max, GENDERS.get(gender, ""),
                                     _social_word(social), ""])
        return out.getvalue()
    order = {plan.id: plan.position for plan in plans}
    rows = sorted(table.rows, key=lambda r: (order.get(r.plan_id, 0), r.gender or "", r.social_security is False,
                                             r.age_min))
    for row in rows:
        writer.writerow([codes.get(row.plan_id, ""), row.age_min, row.age_max, GENDERS.get(row.gender, ""),
                         _social_word(row.social_security), yuan_text(row.annual_premium_fen)])
    return out.getvalue()


def _social_word(social):
    return "" if social is None else ("有" if social else "无")
