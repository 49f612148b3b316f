import re
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as InvalidNumber
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.core.clock import age_on, today_local
from app.core.forms import Form, LegalName, SubForm, choices, strip_text
from app.purchase import car_quotes, vehicles
from app.purchase.car import CLAIMS, DISPLACEMENTS, THIRD_PARTY, USAGES


class CarQuoteForm(Form):
    plate = StringField("车牌号", validators=[InputRequired("请填写车牌号")],
                        filters=[vehicles.normalise_plate])
    vin = StringField("车架号（VIN）", validators=[InputRequired("请填写车架号")],
                      filters=[lambda v: (v or "").strip().upper()])
    engine_no = StringField("发动机号", validators=[InputRequired("请填写发动机号")],
                            filters=[lambda v: (v or "").strip().upper()])
    owner_name = StringField("车主姓名", validators=[InputRequired("请填写车主姓名"), LegalName()],
                             filters=[strip_text])
    owner_id = StringField("车主身份证号码", validators=[InputRequired("请填写车主身份证号码")])
    first_registration = DateField("初次登记日期", validators=[InputRequired("请填写初次登记日期")],
                                   invalid_value_message="请按 年-月-日 填写初次登记日期")
    seats = IntegerField("核定座位数", validators=[InputRequired("请填写座位数"),
                                                 NumberRange(2, 9, "私家车座位数应在2–9座之间")],
                         invalid_value_message="座位数请填写整数")
    usage = RadioField("使用性质", choices=choices(USAGES.items()), default="private",
                       validators=[InputRequired("请选择使用性质")])
    displacement = SelectField("排量", choices=choices(DISPLACEMENTS.items()), default="1.6-2.0")
    purchase_price = IntegerField("新车购置价（元）", validators=[Optional(), NumberRange(
        20000, 5000000, "新车购置价应在2万–500万元之间")], invalid_value_message="新车购置价请填写整数（元）")
    claims = SelectField("上年出险次数", choices=choices(CLAIMS.items()), default="0")
    third_party = SelectField("第三者责任险", choices=choices(THIRD_PARTY.items()), default="200")
    damage = BooleanField("车损险", default=True)
    passengers = BooleanField("车上人员责任险（每座1万）", default=True)

    def validate_plate(self, field):
        if not vehicles.is_valid_plate(field.data):
            raise ValidationError("车牌号格式不正确，如 京A12345，新能源车如 粤BD12345")

    def validate_vin(self, field):
        problem = vehicles.vin_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_engine_no(self, field):
        if not (4 <= len(field.data) <= 20 and field.data.isalnum() and field.data.isascii()):
            raise ValidationError("发动机号应为4–20位字母或数字")

    def validate_owner_id(self, field):
        try:
            field.data = ric.validate((field.data or "").strip())
        except InvalidNumber as error:
            raise ValidationError("身份证号码无效，请检查后重新填写") from error
        if age_on(ric.get_birth_date(field.data), today_local()) < 18:
            raise ValidationError("车主须年满18周岁")

    def validate_first_registration(self, field):
        if field.data is None:  # unreadable: its parse error is already on the field
            return
        if field.data > today_local():
            raise ValidationError("初次登记日期不能晚于今天")
        if field.data < date(1990, 1, 1):
            raise ValidationError("初次登记日期过早，请核对行驶证")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.damage.data and self.purchase_price.data is None and not self.purchase_price.errors:
            self.purchase_price.errors.append("投保车损险需要填写新车购置价")  # Optional() stops its own chain
            valid = False
        return valid

    def saved_values(self):
        """What the validated form read, as form data again (never the raw request: a checkbox is "y" or
        absent, whatever was posted in it)."""
        values = {}
        for name in car_quotes.FIELDS:
            value = self[name].data
            if isinstance(value, bool):
                if value:
                    values[name] = "y"
            elif value is not None:
                values[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return values

    def pricing_args(self):
        today = today_local()
        return {
            "seats": self.seats.data, "usage": self.usage.data, "displacement": self.displacement.data,
            "claims": self.claims.data, "new_car": (today - self.first_registration.data).days < 365,
            "new_energy": vehicles.is_new_energy_plate(self.plate.data),
            "purchase_price_fen": (self.purchase_price.data or 0) * 100, "third_party": self.third_party.data,
            "damage": self.damage.data, "passengers": self.passengers.data,
        }


# The application's steps. Field rules here; rules that need the product or other steps are in
# app/purchase/applications.py.

def _check_id_number(field):
    try:
        field.data = ric.validate(strip_text(field.data))
    except InvalidNumber as error:
        raise ValidationError("身份证号码无效，请检查后重新填写") from error


class PlanForm(Form):
    plan = RadioField("保障方案", validate_choice=False)
    frequency = RadioField("缴费方式", validate_choice=False)

    def for_product(self, product):
        from app.catalog.models import FREQUENCIES
        self.plan.choices = choices((p.code, p.name) for p in product.plans)
        self.frequency.choices = choices((f, FREQUENCIES[f]) for f in product.frequencies)
        return self


PLACE = Length(max=20, message="最多填写 20 个字")
ADDRESS = Length(max=100, message="详细地址最多100个字")


class ContactForm(Form):
    """Mobile, email and address: checked the same wherever they are given (applications, /me)."""
    mobile = StringField("手机号码", validators=[InputRequired("请填写手机号码")], filters=[strip_text])
    email = StringField("电子邮箱（选填）", validators=[Optional(), Length(max=80, message="电子邮箱最多80个字符")],
                        filters=[strip_text])
    province = StringField("省份", validators=[InputRequired("请填写省份"), PLACE], filters=[strip_text])
    city = StringField("城市", validators=[InputRequired("请填写城市"), PLACE], filters=[strip_text])
    district = StringField("区县", validators=[InputRequired("请填写区县"), PLACE], filters=[strip_text])
    address = StringField("详细地址", validators=[InputRequired("请填写详细地址"), ADDRESS], filters=[strip_text])

    def validate_mobile(self, field):
        import phonenumbers
        try:
            number = phonenumbers.parse(field.data, "CN")
        except phonenumbers.NumberParseException as error:
            raise ValidationError("请填写11位中国大陆手机号码") from error
        if not (phonenumbers.is_valid_number(number) and number.country_code == 86
                and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE):
            raise ValidationError("请填写11位中国大陆手机号码")
        field.data = str(number.national_number)

    def validate_email(self, field):
        if field.data and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", field.data):
            raise ValidationError("电子邮箱格式不正确")

    def validate_address(self, field):
        if len(field.data) < 5:
            raise ValidationError("请填写到门牌号的详细地址")


class ApplicantForm(ContactForm):
    name = StringField("投保人姓名", validators=[InputRequired("请填写投保人姓名"), LegalName()], filters=[strip_text])
    id_number = StringField("身份证号码", validators=[InputRequired("请填写身份证号码")])

    def validate_id_number(self, field):
        _check_id_number(field)


class InsuredForm(Form):
    relation = RadioField("被保险人是投保人的", default="self", validate_choice=False)
    name = StringField("被保险人姓名", validators=[LegalName()], filters=[strip_text])
    id_number = StringField("被保险人身份证号码")
    social_security = RadioField("有无社保", choices=choices([("yes", "有社保"), ("no", "无社保")]),
                                 default="yes", validate_choice=False)

    def validate_relation(self, field):
        from app.purchase.applications import RELATIONS
        if field.data not in RELATIONS:
            raise ValidationError("请选择被保险人与投保人的关系")

    def validate_name(self, field):
        if self.relation.data != "self" and not field.data:
            raise ValidationError("请填写被保险人的姓名")

    def validate_id_number(self, field):
        if self.relation.data != "self":
            _check_id_number(field)


class BeneficiaryRow(SubForm):
    """One named beneficiary. A row left empty is no one."""
    name = StringField("姓名", validators=[LegalName()], filters=[strip_text])
    id_number = StringField("身份证号码", filters=[strip_text])
    relation = SelectField("与被保险人关系", validate_choice=False)
    share = IntegerField("受益比例（%）", validators=[Optional(), NumberRange(1, 100, "受益比例请填写1–100之间的整数")],
                         invalid_value_message="受益比例请填写1–100之间的整数")

    def __init__(self, *args, **kwargs):
        from app.purchase.applications import BENEFICIARY_RELATIONS
        super().__init__(*args, **kwargs)
        self.relation.choices = choices([("", "请选择"), *BENEFICIARY_RELATIONS.items()])

    def is_blank(self):
        return not any((self.name.data, self.id_number.data, self.relation.data, self.share.raw_data
                        and self.share.raw_data[0].strip()))

    def validate_id_number(self, field):
        if field.data:
            _check_id_number(field)

    def validate_relation(self, field):
        from app.purchase.applications import BENEFICIARY_RELATIONS
        if field.data and field.data not in BENEFICIARY_RELATIONS:
            raise ValidationError("请选择与被保险人的关系")


class BeneficiaryForm(Form):
    ROWS = 3
    kind = RadioField("身故受益人", choices=choices([("statutory", "法定受益人"), ("named", "指定受益人")]),
                      default="statutory", validate_choice=False)
    people = FieldList(FormField(BeneficiaryRow), min_entries=ROWS, max_entries=ROWS)

    REQUIRED = {"name": "请填写受益人姓名", "id_number": "请填写受益人的身份证号码", "relation": "请选择与被保险人的关系",
                "share": "请填写受益比例"}

    def validate(self, extra_validators=None):
        if self.kind.data != "named":  # 法定受益人: the rows are not used, whatever they hold
            for row in self.people:
                row.form.process(MultiDict())
        valid = super().validate(extra_validators)
        if self.kind.data != "named":
            return valid
        rows = [row.form for row in self.people if not row.form.is_blank()]
        if not rows:
            self.people[0].form.name.errors = [*self.people[0].form.name.errors, "请至少填写一位受益人，或选择法定受益人"]
            return False
        for row in rows:
            for name, message in self.REQUIRED.items():
                if row[name].data in (None, "") and not row[name].errors:
                    row[name].errors = [*row[name].errors, message]
                    valid = False
        return valid

    def people_data(self):
        """The named beneficiaries as saved: name, ID number, relation, share."""
        return [{"name": row.form.name.data, "id_number": row.form.id_number.data,
                 "relation": row.form.relation.data, "share": row.form.share.data}
                for row in self.people if not row.form.is_blank()]


class ConfirmForm(Form):
    acknowledged = BooleanField("我已阅读《保险条款》《投保须知》，确认以上信息真实准确",
                                validators=[InputRequired("请先确认已阅读条款和投保须知")])
    # Issued with the page: sent twice (double click, retry), it finds the same order.
    idempotency_key = HiddenField(validators=[InputRequired(), Length(min=16, max=40)])
