from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as InvalidNumber
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from app.core.clock import age_on, today_local
from app.core.forms import Form, choices
from app.purchase import vehicles
from app.purchase.car import CLAIMS, DISPLACEMENTS, THIRD_PARTY, USAGES


class CarQuoteForm(Form):
    plate = StringField("车牌号", validators=[InputRequired("请填写车牌号")],
                        filters=[vehicles.normalise_plate])
    vin = StringField("车架号（VIN）", validators=[InputRequired("请填写车架号")],
                      filters=[lambda v: (v or "").strip().upper()])
    engine_no = StringField("发动机号", validators=[InputRequired("请填写发动机号")],
                            filters=[lambda v: (v or "").strip().upper()])
    owner_name = StringField("车主姓名", validators=[InputRequired("请填写车主姓名")],
                             filters=[lambda v: (v or "").strip()])
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

    def validate_owner_name(self, field):
        if not 2 <= len(field.data) <= 30:
            raise ValidationError("请填写车主的真实姓名")

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

    def pricing_args(self):
        today = today_local()
        return {
            "seats": self.seats.data, "usage": self.usage.data, "displacement": self.displacement.data,
            "claims": self.claims.data, "new_car": (today - self.first_registration.data).days < 365,
            "new_energy": vehicles.is_new_energy_plate(self.plate.data),
            "purchase_price_fen": (self.purchase_price.data or 0) * 100, "third_party": self.third_party.data,
            "damage": self.damage.data, "passengers": self.passengers.data,
        }
