from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length

from app.core.forms import Form, QueryForm, choices
from app.vouchers.models import KINDS


class OfferFilterForm(QueryForm):
    kind = SelectField("类型", choices=choices([("", "全部"), *KINDS.items()]), default="")
    city = SelectField("城市", default="")

    def set_cities(self, cities):
        self.city.choices = choices([("", "全部城市"), *((c, c) for c in cities)])
        return self


class ClaimForm(Form):
    """领取: the partner's agreement, if the user has not accepted its version in force, is ticked here."""
    agreement = BooleanField("我已阅读并同意")
    agreement_version = HiddenField()
    submission = HiddenField()


class StaffLoginForm(Form):
    username = StringField("用户名", validators=[InputRequired("请输入用户名"), Length(max=40)])
    password = PasswordField("密码", validators=[InputRequired("请输入密码"), Length(max=200)])
    next = HiddenField()


class RedeemForm(Form):
    code = StringField("券码", validators=[InputRequired("请输入或扫描券码"), Length(max=40, message="券码过长")])
