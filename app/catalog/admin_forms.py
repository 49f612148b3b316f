"""The back office's product forms (运营): a draft's details, its plans with their coverage items, its documents and
FAQ, and the workflow's decisions (submit, approve with an effective time, send back, withdraw, re-publish).
Amounts are typed in yuan and kept as integer fen; effective times are typed in Shanghai time."""
import re

from wtforms import BooleanField, FieldList, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.admin.forms import CheckboxesField
from app.catalog.models import FREQUENCIES
from app.core.forms import Form, LocalDateTimeField, QueryForm, SubForm, YuanField, choices, strip_text

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PLAN_CODE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
AGE_MESSAGE = "请填写 0–100 之间的整数周岁"


class ProductFilterForm(QueryForm):
    STATES = {"": "全部", "draft": "草稿", "pending": "待审核", "on_sale": "在售", "scheduled": "待上架",
              "withdrawn": "已下架"}
    state = SelectField("状态", choices=choices(STATES.items()), default="")

    def validate_state(self, field):
        if field.data not in self.STATES:  # an edited link lists everything rather than refusing
            field.data = ""


class ProductForm(Form):
    name = StringField("产品名称", validators=[InputRequired("请填写产品名称"), Length(max=60)], filters=[strip_text])
    slug = StringField("网址名", validators=[
        InputRequired("请填写网址名"), Length(max=60, message="网址名最多 60 个字符"),
        Regexp(SLUG.pattern + r"\Z", message="网址名只能用小写字母、数字和连字符（-），如 anxin-medical-2027")],
        filters=[lambda v: strip_text(v).lower()])
    tagline = StringField("一句话介绍", validators=[InputRequired("请填写一句话介绍"), Length(max=120)],
                          filters=[strip_text])
    category = SelectField("险种", validators=[InputRequired("请选择险种")])
    insurer = SelectField("承保公司", validators=[InputRequired("请选择承保公司")])
    age_min = IntegerField("最低投保年龄（周岁）", validators=[InputRequired(AGE_MESSAGE), NumberRange(0, 100, AGE_MESSAGE)],
                           invalid_value_message=AGE_MESSAGE)
    age_max = IntegerField("最高投保年龄（周岁）", validators=[InputRequired(AGE_MESSAGE), NumberRange(0, 100, AGE_MESSAGE)],
                           invalid_value_message=AGE_MESSAGE)
    coverage_period = StringField("保障期限", validators=[InputRequired("请填写保障期限，如 1年"), Length(max=30)],
                                  filters=[strip_text])
    waiting_period_days = IntegerField("等待期（天）", validators=[
        InputRequired("请填写等待期天数，没有等待期填 0"), NumberRange(0, 730, "等待期请填写 0–730 之间的天数")],
        invalid_value_message="等待期请填写 0–730 之间的天数")
    cooling_off_days = IntegerField("犹豫期（天）", validators=[
        InputRequired("请填写犹豫期天数"), NumberRange(0, 365, "犹豫期请填写 0–365 之间的天数")],
        invalid_value_message="犹豫期请填写 0–365 之间的天数")
    renewal = StringField("续保条件", validators=[InputRequired("请填写续保条件"), Length(max=200)], filters=[strip_text])
    highlights = TextAreaField("产品亮点（每行一条）", validators=[Optional(), Length(max=1000, message="产品亮点最多 1000 个字")],
                               filters=[strip_text])
    priced_by_gender = BooleanField("保费按性别区分")
    priced_by_social_security = BooleanField("保费按有无社保区分")
    payment_frequencies = CheckboxesField("缴费方式", choices=choices(FREQUENCIES.items()),
                                          validators=[InputRequired("请至少选择一种缴费方式")])
    monthly_loading_permille = IntegerField("月缴系数（‰）", default=1000, validators=[
        InputRequired("请填写月缴系数，不加费填 1000"), NumberRange(1000, 1200, "月缴系数请填写 1000–1200 之间的整数（‰）")],
        invalid_value_message="月缴系数请填写 1000–1200 之间的整数（‰）")

    def set_choices(self, categories, insurers):
        self.category.choices = choices([("", "请选择"), *((str(c.id), c.name) for c in categories)])
        self.insurer.choices = choices([("", "请选择"), *((str(i.id), i.name) for i in insurers)])
        return self

    def validate_age_max(self, field):
        if self.age_min.data is not None and field.data is not None and not self.age_min.errors \
                and field.data < self.age_min.data:
            raise ValidationError("最高投保年龄不能低于最低投保年龄")

    def values(self):
        """What the use cases take (admin_products.PRODUCT_FIELDS)."""
        return {"name": self.name.data, "slug": self.slug.data, "tagline": self.tagline.data,
                "category_id": int(self.category.data), "insurer_id": int(self.insurer.data),
                "age_min": self.age_min.data, "age_max": self.age_max.data,
                "coverage_period": self.coverage_period.data, "waiting_period_days": self.waiting_period_days.data,
                "cooling_off_days": self.cooling_off_days.data, "renewal": self.renewal.data,
                "highlights": self.highlights.data or "", "priced_by_gender": self.priced_by_gender.data,
                "priced_by_social_security": self.priced_by_social_security.data,
                "payment_frequencies": ",".join(f for f in FREQUENCIES if f in (self.payment_frequencies.data or [])),
                "monthly_loading_permille": self.monthly_loading_permille.data}


class CoverageRow(SubForm):
    """One coverage item of a plan. A row left empty is nothing; a row marked 删除 goes."""
    name = StringField("保障责任", validators=[Optional(), Length(max=60)], filters=[strip_text])
    limit = YuanField("保额/限额（元）", validators=[Optional()])
    limit_text = StringField("或文字说明", validators=[Optional(), Length(max=60)], filters=[strip_text])
    deductible = YuanField("免赔额（元）", validators=[Optional()])
    notes = StringField("说明", validators=[Optional(), Length(max=200)], filters=[strip_text])
    remove = BooleanField("删除")

    def is_empty(self):
        return not any((self.name.data, self.limit.data, self.limit_text.data, self.deductible.data, self.notes.data))


class ProductPlanForm(Form):
    ROWS = 30
    code = StringField("方案代码", validators=[
        InputRequired("请填写方案代码"), Length(max=20, message="方案代码最多 20 个字符"),
        Regexp(PLAN_CODE.pattern + r"\Z", message="方案代码只能用小写字母、数字和连字符（-），如 basic")],
        filters=[lambda v: strip_text(v).lower()])
    name = StringField("方案名称", validators=[InputRequired("请填写方案名称"), Length(max=20)], filters=[strip_text])
    description = StringField("方案说明", validators=[Optional(), Length(max=120)], filters=[strip_text])
    sum_assured = YuanField("保额（元）", validators=[InputRequired("请填写保额")])
    items = FieldList(FormField(CoverageRow), min_entries=1, max_entries=ROWS)
    items_error = None

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        kept = 0
        for row in (entry.form for entry in self.items):
            if row.remove.data or row.is_empty():
                continue
            kept += 1
            if not row.name.data and not row.name.errors:
                row.name.errors = [*row.name.errors, "请填写保障责任名称"]
                valid = False
            if row.limit.data is None and not row.limit_text.data and not row.limit.errors:
                row.limit.errors = [*row.limit.errors, "请填写限额，或在“文字说明”中写明（如“按实际费用”）"]
                valid = False
        if not kept:
            self.items_error = "请至少填写一项保障责任"
            valid = False
        return valid

    def coverage(self):
        """The rows kept, as the use case takes them."""
        return [{"name": row.name.data, "limit_fen": row.limit.data, "limit_text": row.limit_text.data or "",
                 "deductible_fen": row.deductible.data or 0, "notes": row.notes.data or ""}
                for row in (entry.form for entry in self.items) if not row.remove.data and not row.is_empty()]


class ProductDocumentForm(Form):
    title = StringField("标题", validators=[InputRequired("请填写标题"), Length(max=80)], filters=[strip_text])
    body = TextAreaField("正文（Markdown）", validators=[
        InputRequired("请填写正文"), Length(max=50000, message="正文最多 50000 个字")], filters=[strip_text])


class FaqRow(SubForm):
    question = StringField("问题", validators=[Optional(), Length(max=120)], filters=[strip_text])
    answer = TextAreaField("回答", validators=[Optional(), Length(max=1000, message="回答最多 1000 个字")],
                           filters=[strip_text])
    remove = BooleanField("删除")


class ProductFaqForm(Form):
    ROWS = 30
    rows = FieldList(FormField(FaqRow), min_entries=1, max_entries=ROWS)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        for row in (entry.form for entry in self.rows):
            if row.remove.data or not (row.question.data or row.answer.data):
                continue
            if not row.question.data and not row.question.errors:
                row.question.errors = [*row.question.errors, "请填写问题"]
                valid = False
            if not row.answer.data and not row.answer.errors:
                row.answer.errors = [*row.answer.errors, "请填写回答"]
                valid = False
        return valid

    def faqs(self):
        return [{"question": row.question.data, "answer": row.answer.data} for row in (entry.form for entry in self.rows)
                if not row.remove.data and (row.question.data or row.answer.data)]


class ProductNoteForm(Form):
    """Submit, recall a submission, reopen for editing: an optional note for the audit log."""
    note = StringField("说明（选填）", validators=[Optional(), Length(max=200)], filters=[strip_text])


class ProductPublishForm(Form):
    """Approve (on sale from), re-publish: when it takes effect, in Shanghai time (empty: now)."""
    effective_at = LocalDateTimeField("生效时间（北京时间，留空为立即）", validators=[Optional()])
    note = StringField("说明（选填）", validators=[Optional(), Length(max=200)], filters=[strip_text])


class SendBackForm(Form):
    """Send back: the reason is asked, shown to the preparer and recorded."""
    reason = StringField("原因", validators=[
        InputRequired("请填写原因"), Length(min=2, max=200, message="原因为2–200个字")], filters=[strip_text])


class ProductWithdrawForm(Form):
    """Withdraw from sale: a reason, and when (empty: now)."""
    effective_at = LocalDateTimeField("下架时间（北京时间，留空为立即）", validators=[Optional()])
    reason = StringField("下架原因", validators=[
        InputRequired("请填写下架原因"), Length(min=2, max=200, message="原因为2–200个字")], filters=[strip_text])
