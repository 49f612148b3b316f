from wtforms import DateField, HiddenField, RadioField, SelectMultipleField, StringField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.agreements.models import RELATIONSHIPS
from app.core.forms import Form, choices


class AcceptForm(Form):
    """Shown over other pages (which have forms of their own): its fields are prefixed, so their ids
    never collide with the page's."""
    PREFIX = "gate"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.PREFIX)
        super().__init__(*args, **kwargs)

    agreements = SelectMultipleField("我已阅读并同意", coerce=int, validate_choice=False,
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    birth_date = DateField("你的出生日期", validators=[Optional()],
                           invalid_value_message="请按 年-月-日 填写出生日期")
    original = HiddenField()
    submission = HiddenField()


class GuardianForm(Form):
    name = StringField("监护人姓名")
    id_number = StringField("监护人身份证号码")
    relationship = RadioField("与未成年人的关系", choices=choices(RELATIONSHIPS.items()), validate_choice=False)
