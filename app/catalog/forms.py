from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, RadioField, SearchField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.catalog.models import FREQUENCIES, GENDERS
from app.catalog.services import SORTS
from app.core.forms import Form, LocalDateTimeField, QueryForm, choices, clean_text, strip_text

AGE_MESSAGE = "请输入 0–120 之间的整数周岁"


def clean_query(value):
    """Collapse white space and drop what no one types (a search box forgives rather than refuses)."""
    return " ".join(clean_text(value, multiline=True).split()) if value else ""


class CatalogFilterForm(QueryForm):
    q = SearchField("搜索", validators=[Optional(), Length(max=40, message="搜索词最多 40 个字")],
                    filters=[clean_query])
    category = SelectField("险种", validate_choice=False, default="")
    age = IntegerField("被保人年龄", validators=[Optional(), NumberRange(0, 120, message=AGE_MESSAGE)],
                       invalid_value_message=AGE_MESSAGE)
    sort = SelectField("排序", choices=choices(SORTS.items()), default="default", validate_choice=False)

    def set_categories(self, categories):
        """``categories``: (slug, name) pairs in display order."""
        self.category.choices = choices([("", "全部险种"), *categories])

    def validate_category(self, field):
        # An unknown category (an old or edited link) is ignored rather than refused.
        if field.data not in {choice.value for choice in field.choices}:
            field.data = ""

    def validate_sort(self, field):
        if field.data not in SORTS:
            field.data = "default"

    def criteria(self):
        """The filters that passed validation; a field with an error filters nothing."""
        return {
            "q": self.q.data if not self.q.errors else "",
            "category": self.category.data or None,
            "age": self.age.data if not self.age.errors else None,
            "sort": self.sort.data,
        }

    def url_args(self):
        """The criteria as query arguments for links, leaving out the empty and the default ones."""
        return {key: value for key, value in self.criteria().items()
                if value not in (None, "") and not (key == "sort" and value == "default")}


class QuoteForm(Form):
    plan = RadioField("保障方案", validate_choice=False)
    birth_date = DateField("出生日期", validators=[Optional()],
                           invalid_value_message="请按 年-月-日 填写出生日期，如 1990-05-01")
    age = IntegerField("或填周岁年龄", validators=[Optional(), NumberRange(0, 120, message=AGE_MESSAGE)],
                       invalid_value_message=AGE_MESSAGE)
    gender = RadioField("性别", choices=choices(GENDERS.items()), validate_choice=False)
    social_security = RadioField("有无社保", choices=choices([("yes", "有社保"), ("no", "无社保")]),
                                 validate_choice=False)
    frequency = RadioField("缴费方式", choices=choices(FREQUENCIES.items()), default="annual",
                           validate_choice=False)

    def for_product(self, product):
        self.plan.choices = choices((p.code, p.name) for p in product.plans)
        self.frequency.choices = choices((f, FREQUENCIES[f]) for f in product.frequencies)
        return self

    def quote_args(self):
        return {
            "plan_code": self.plan.data,
            "birth_date": self.birth_date.data,
            "age": None if self.birth_date.data else self.age.data,
            "gender": self.gender.data,
            "social_security": {"yes": True, "no": False}.get(self.social_security.data),
            "frequency": self.frequency.data or "annual",
        }


class RateImportForm(Form):
    """A rate table file (CSV or XLSX in the template's columns) and why the prices change."""
    file = FileField("费率表文件（CSV 或 Excel .xlsx）", validators=[FileRequired("请选择要导入的费率表文件")])
    note = StringField("调整说明", validators=[InputRequired("请说明本次调整的原因"), Length(max=200)],
                       filters=[strip_text])


class RateApproveForm(Form):
    """When the approved table takes effect (Beijing time; now or later)."""
    effective_at = LocalDateTimeField("生效时间（北京时间）", validators=[InputRequired("请填写生效时间")])
