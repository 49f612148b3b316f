"""The back office's forms for partners, stores, offers and partner staff accounts (every field guarded by
core.forms; what needs the database, such as a taken name or a city without a store, is the service's)."""
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from app.core.forms import Form, YuanField, choices, strip_text
from app.vouchers.manage import SLUG
from app.vouchers.models import KINDS

DATE_MESSAGE = "请按 年-月-日 填写日期"
KIND_CHOICES = choices(KINDS.items())


def _lower(value):
    return strip_text(value).lower()


class PartnerForm(Form):
    name = StringField("商户名称", validators=[InputRequired("请填写商户名称"), Length(max=60)], filters=[strip_text])
    kind = SelectField("类型", choices=KIND_CHOICES, validators=[InputRequired("请选择商户类型")])
    description = TextAreaField("简介", validators=[Optional(), Length(max=500)], filters=[strip_text])
    agreement_kind = SelectField("用户协议", validators=[InputRequired("请选择本商户的用户协议")])

    def set_agreements(self, agreements):
        self.agreement_kind.choices = choices((a.kind, f"《{a.title}》") for a in agreements)
        return self


class NewPartnerForm(PartnerForm):
    slug = StringField("商户代码", validators=[
        InputRequired("请填写商户代码"), Length(max=40),
        Regexp(SLUG.pattern + r"\Z", message="商户代码为2–40位小写字母、数字或 -，以字母开头")], filters=[_lower])
    agreement_kind = None  # made with the partner: 《商户名称用户服务协议》


class StoreForm(Form):
    name = StringField("门店名称", validators=[InputRequired("请填写门店名称"), Length(max=60)], filters=[strip_text])
    city = StringField("城市", validators=[InputRequired("请填写门店所在城市"), Length(max=20)], filters=[strip_text])
    address = StringField("地址", validators=[InputRequired("请填写门店地址"), Length(max=120)], filters=[strip_text])
    phone = StringField("门店电话", validators=[
        Optional(), Length(max=20), Regexp(r"[0-9][0-9-]{4,19}\Z", message="请填写门店的公开电话，如 010-64000001")],
        filters=[strip_text])


class OfferForm(Form):
    title = StringField("活动标题", validators=[InputRequired("请填写活动标题"), Length(max=60)], filters=[strip_text])
    service = StringField("服务内容", validators=[InputRequired("请填写门店提供的服务"), Length(max=120)],
                          filters=[strip_text])
    terms = TextAreaField("使用须知（每行一条）", validators=[Optional(), Length(max=1000)], filters=[strip_text])
    price = YuanField("到店价（元）", validators=[InputRequired("请填写到店价，免费填 0"),
                                              NumberRange(max=100_000_00, message="到店价不能超过 100000 元")])
    settlement = YuanField("结算价（元）", validators=[InputRequired("请填写结算价，不结算填 0"),
                                                   NumberRange(max=100_000_00, message="结算价不能超过 100000 元")])
    stock_total = IntegerField("总数量（张）", validators=[
        InputRequired("请填写总数量"), NumberRange(0, 1_000_000, "总数量为 0–1000000 张")])
    per_user_limit = IntegerField("每人限领（张）", validators=[
        InputRequired("请填写每人限领张数"), NumberRange(1, 100, "每人限领 1–100 张")])
    valid_days = IntegerField("领取后有效天数", validators=[
        InputRequired("请填写领取后的有效天数"), NumberRange(1, 366, "有效天数为 1–366 天")])
    starts_on = DateField("开始领取", validators=[InputRequired("请填写开始领取的日期")], invalid_value_message=DATE_MESSAGE)
    ends_on = DateField("领取截止", validators=[InputRequired("请填写领取截止的日期")], invalid_value_message=DATE_MESSAGE)
    cities = StringField("适用城市", validators=[Optional(), Length(max=200)], filters=[strip_text])
    required_category = SelectField("领取条件", default="")

    def set_categories(self, categories):
        self.required_category.choices = choices(
            [("", "不限，所有人可领"), *((slug, f"持有有效的{name}保单") for slug, name in categories)])
        return self

    def values(self):
        """What the service takes (money as fen)."""
        return {"title": self.title.data, "service": self.service.data, "terms": self.terms.data or "",
                "price_fen": self.price.data, "settlement_fen": self.settlement.data,
                "stock_total": self.stock_total.data, "per_user_limit": self.per_user_limit.data,
                "valid_days": self.valid_days.data, "starts_on": self.starts_on.data, "ends_on": self.ends_on.data,
                "cities": self.cities.data or "", "required_category": self.required_category.data or None}


class NewOfferForm(OfferForm):
    partner = SelectField("合作商户", validators=[InputRequired("请选择合作商户")])

    def set_partners(self, partners):
        self.partner.choices = choices([("", "请选择"), *((p.slug, p.name) for p in partners)])
        return self


class PartnerStaffForm(Form):
    username = StringField("用户名", validators=[
        InputRequired("请填写用户名"), Length(max=40),
        Regexp(r"[a-z0-9][a-z0-9._-]{2,39}\Z", message="用户名为3–40位小写字母、数字或 . _ -，以字母或数字开头")],
        filters=[_lower])
    display_name = StringField("姓名", validators=[InputRequired("请填写店员姓名"), Length(max=40)],
                               filters=[strip_text])
