from wtforms import BooleanField, DateField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

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


class PeriodForm(QueryForm):
    """?from=&to= of the redemptions: days (in the dates' sane range, see core.forms), either may be left out."""
    start = DateField("开始日期", name="from", validators=[Optional()], invalid_value_message="请按 年-月-日 填写日期")
    end = DateField("结束日期", name="to", validators=[Optional()], invalid_value_message="请按 年-月-日 填写日期")
