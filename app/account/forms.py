from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Optional

from app.core.forms import Form, strip_text
from app.purchase.forms import ADDRESS, PLACE, ContactForm

ADDRESS_PARTS = ("province", "city", "district", "address")


class AccountContactForm(ContactForm):
    """/me: each item may be left empty (removed); given, it is checked as on the purchase forms, and an
    address is all of its parts or none."""
    mobile = StringField("手机号码", validators=[Optional()], filters=[strip_text])
    province = StringField("省份", validators=[Optional(), PLACE], filters=[strip_text])
    city = StringField("城市", validators=[Optional(), PLACE], filters=[strip_text])
    district = StringField("区县", validators=[Optional(), PLACE], filters=[strip_text])
    address = StringField("详细地址", validators=[Optional(), ADDRESS], filters=[strip_text])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        given = [name for name in ADDRESS_PARTS if self[name].data]
        if given and len(given) < len(ADDRESS_PARTS):
            for name in ADDRESS_PARTS:
                if not self[name].data:
                    self[name].errors = [*self[name].errors, f"请填写{self[name].label.text}，或清空整个地址"]
            return False
        return valid


class DeleteForm(Form):
    confirmed = BooleanField("我已了解注销的后果，确认注销我的账户", validators=[InputRequired("请先勾选确认")])
