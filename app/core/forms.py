"""Form base classes. Every field of every form is guarded here, once, before its own checks run:

- text that could not have been typed is refused (control characters and NUL, bidi overrides, lone
  surrogates), so it never reaches a page or the database (PostgreSQL refuses NUL in text outright);
- text has a maximum length, the field's own ``Length`` or DEFAULT_MAX_LENGTH;
- numbers and dates have a sane range, the field's own or the defaults below;
- a value that could not be read at all keeps its one message and is checked no further.

WTForms' own Chinese catalogue supplies any message we don't write.
"""
import re
import unicodedata
from datetime import UTC, date, datetime

from flask import request
from flask_wtf import FlaskForm
from wtforms import Form as PlainForm
from wtforms.fields import DateField, DateTimeLocalField, DecimalField, IntegerField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import Length, NumberRange, StopValidation, ValidationError

from app.core.clock import SHANGHAI, format_local
from app.core.money import parse_yuan, yuan_text

DEFAULT_MAX_LENGTH = 100
DATE_RANGE = (date(1900, 1, 1), date(2100, 12, 31))
NUMBER_RANGE = (-(2**31), 2**31 - 1)  # what an INTEGER column holds on every database

# C0 and C1 controls (NUL included) and DEL; bidi embeddings, overrides, isolates and marks; surrogates
# (a lone one cannot be encoded); the two non-characters of the BMP's last row. Multi-line fields allow
# line breaks and tabs.
_FORBIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
_FORBIDDEN_LINE = re.compile(f"[{_FORBIDDEN}\t\n\r]")
_FORBIDDEN_TEXT = re.compile(f"[{_FORBIDDEN}]")
TEXT_MESSAGE = "含有无法识别的字符（如控制字符或不可见的方向字符），请删除后重新填写"


def strip_text(value):
    """The usual filter of a text field: surrounding white space goes."""
    return (value or "").strip()


def choices(pairs):
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def field_named(form, name):
    """The field whose input is called ``name`` (rows of a FieldList included), or None."""
    for field in form:
        if field.name == name:
            return field
        if field.type in ("FieldList", "FormField"):
            found = field_named(field, name)
            if found is not None:
                return found
    return None


def forbidden_characters(text: str, multiline=False):
    """Characters no one types into a form field; None when the text is clean."""
    return (_FORBIDDEN_TEXT if multiline else _FORBIDDEN_LINE).search(text)


def clean_text(text: str, multiline=False) -> str:
    """``text`` without the characters ``forbidden_characters`` finds."""
    return (_FORBIDDEN_TEXT if multiline else _FORBIDDEN_LINE).sub("", text)


# Legal names (投保人、被保险人、受益人、车主、监护人): as on an identity document. Chinese names are 2–20
# CJK characters, with the middle dot between the parts of a minority or transliterated name; foreign
# nationals' names are Latin letters with spaces, hyphens and dots.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CHINESE_NAME = re.compile(f"[{_CJK}]+(?:·[{_CJK}]+)*")
_LATIN_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_LATIN_NAME = re.compile(f"[{_LATIN_LETTER}]+(?:(?: |-|\\. ?)[{_LATIN_LETTER}]+)*\\.?")
# The dots people type for "·": the full-width, bullet, katakana and hyphenation points.
_DOTS = str.maketrans({"\u2022": "·", "\u30fb": "·", "\u2027": "·", "\uff0e": "·", "\u2219": "·",
                       "\u22c5": "·", "\u0387": "·"})
CHINESE_NAME_LENGTH = (2, 20)
LATIN_NAME_LENGTH = (2, 50)
NAME_MESSAGE = "请填写与身份证一致的姓名：中文姓名为2–20个汉字（少数民族姓名用“·”分隔），外籍人士填写英文字母"


def normalise_legal_name(value: str) -> str:
    """The name as it is kept (NFKC, one space between Latin words, one kind of middle dot), or
    ValueError with the message for the field."""
    name = " ".join(unicodedata.normalize("NFKC", value or "").translate(_DOTS).split())
    if _CHINESE_NAME.fullmatch(name.replace(" ", "")):
        name = name.replace(" ", "")
        low, high = CHINESE_NAME_LENGTH
    elif _LATIN_NAME.fullmatch(name):
        low, high = LATIN_NAME_LENGTH
    else:
        raise ValueError(NAME_MESSAGE)
    if not low <= len(name) <= high:
        raise ValueError(NAME_MESSAGE)
    return name


class LegalName:
    """Validator: a legal name (see normalise_legal_name); the field's data becomes the normalised name."""

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            field.data = normalise_legal_name(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from error


def _guard(form, field):
    """The first check of every field (see the module docstring)."""
    raw = [value for value in (field.raw_data or []) if isinstance(value, str)]
    if field.process_errors and any(value.strip() for value in raw):
        raise StopValidation()  # unreadable: its message is already on the field (empty: Optional decides)
    multiline = field.type == "TextAreaField"
    if any(forbidden_characters(value, multiline) for value in raw):
        if isinstance(field.data, str):
            field.data = clean_text(field.data, multiline)
            field.raw_data = [field.data]
        raise StopValidation(TEXT_MESSAGE)


def _bounds(field):
    """The checks that run right after the guard unless the field has its own: a text's length, a
    number's and a date's range. Each stops the field's other checks, which need not read 10 KB."""
    own = field.validators
    if isinstance(field, StringField):
        if not any(isinstance(v, Length) and v.max >= 0 for v in own):
            yield Within(DEFAULT_MAX_LENGTH)
    elif isinstance(field, IntegerField | DecimalField):
        if not any(isinstance(v, NumberRange) for v in own):
            yield _number_in_range
    elif isinstance(field, DateField | DateTimeLocalField):
        yield _date_in_range


class Within:
    """A text's maximum length that ends the field's checks (the default for fields without a Length)."""

    def __init__(self, max):
        self.max = max

    def __call__(self, form, field):
        if isinstance(field.data, str) and len(field.data) > self.max:
            raise StopValidation(f"最多填写 {self.max} 个字")


def _number_in_range(form, field):
    low, high = NUMBER_RANGE
    if field.data is not None and not low <= field.data <= high:
        raise StopValidation("数值超出范围，请检查后重新填写")


def _date_in_range(form, field):
    low, high = DATE_RANGE
    day = field.data.date() if isinstance(field.data, datetime) else field.data
    if day is not None and not low <= day <= high:
        raise StopValidation(f"请填写 {low.year}–{high.year} 年之间的日期")


def _max_length(field):
    """The longest text the field takes, for the browser's maxlength."""
    return min(v.max for v in field.validators if isinstance(v, Length | Within) and v.max >= 0)


class YuanField(StringField):
    """An amount typed in yuan, held as exact integer fen (``data``; None when empty). A value that is not an
    amount (or has a third decimal) keeps its Chinese message on the field."""

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = valuelist[0] if valuelist else ""
        if not text or not text.strip():
            self.data = None
            return
        try:
            self.data = parse_yuan(text)
        except ValueError as error:
            self.data = None
            raise ValueError(str(error)) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return yuan_text(self.data)


class LocalDateTimeField(DateTimeLocalField):
    """A moment typed in Beijing time (the browser's datetime-local input, to the minute); ``data`` is the naive
    UTC datetime the database columns hold, ``object_data``/a default in UTC shows in Beijing time."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            try:
                self.data = self.data.replace(tzinfo=SHANGHAI).astimezone(UTC).replace(tzinfo=None)
            except OverflowError as error:
                self.data = None
                raise ValueError("请填写正确的日期和时间") from error

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return format_local(self.data, "%Y-%m-%dT%H:%M") if self.data else ""


class GuardedMeta(DefaultMeta):
    """Every bound field gets the guard first and the bounds after its own validators; text fields
    tell the browser their maximum length too. Messages in Chinese from WTForms' own catalogue (not
    Flask-Babel's, which this app does not use)."""
    locales = ["zh"]

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        field.validators = [_guard, *_bounds(field), *field.validators]
        if isinstance(field, StringField) and field.type != "HiddenField":
            field.render_kw = {"maxlength": _max_length(field), **(field.render_kw or {})}
        return field

    def get_translations(self, form):
        return DefaultMeta.get_translations(self, form)


class Form(FlaskForm):
    """A form that posts: CSRF-protected (the token comes from the field or the X-CSRFToken header)."""

    class Meta(GuardedMeta):
        pass


class SubForm(PlainForm):
    """A group of fields repeated inside a form (FieldList of FormField): guarded alike, no CSRF of its own."""

    class Meta(GuardedMeta):
        pass


class QueryForm(Form):
    """A GET form (search, filters): reads request.args, no CSRF since it changes nothing."""

    class Meta:
        csrf = False

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formdata", request.args)
        super().__init__(*args, **kwargs)
