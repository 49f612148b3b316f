"""The claims team's forms (every field guarded by core.forms). What a decision needs beyond its own fields (an
amount within the sum insured and the amount claimed, a refusal's reason, text and clause) is services.py's, and
its message lands on the field it names."""
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from app.admin.forms import CheckboxesField
from app.claims import checklist
from app.claims.admin_claims import PRODUCT_ITEMS, QUEUE_STATES, WHO
from app.claims.models import DECISIONS, PAYOUT_METHODS
from app.claims.services import REASONS
from app.core.forms import Form, QueryForm, YuanField, choices, strip_text


class ItemBoxes(CheckboxesField):
    """Checklist items as checkboxes; a value not listed is told in Chinese (WTForms says it in English)."""

    def pre_validate(self, form):
        listed = {choice[0] for choice in self.iter_choices()}
        if any(value not in listed for value in self.data or ()):
            raise ValidationError("请从列出的材料中选择")


class ClaimQueueForm(QueryForm):
    status = SelectField("状态", choices=choices([("", "全部"), *QUEUE_STATES.items()]), default="")
    who = SelectField("受理人", choices=choices([("", "全部"), *WHO.items()]), default="")
    overdue = BooleanField("只看已超期")
    number = StringField("理赔编号", validators=[
        Optional(), Length(max=24), Regexp(r"[A-Za-z0-9]+\Z", message="理赔编号为字母和数字，如 LP2026…")],
        filters=[lambda v: strip_text(v).upper()])


class SupplementForm(Form):
    """One request listing every missing item: checklist items, and 其他材料 described in the note."""
    items = ItemBoxes("需要补充的材料", choices=choices((key, label) for key, (label, _) in checklist.ITEMS.items()),
                            validators=[Optional()])
    note = StringField("其他材料说明", validators=[Optional(), Length(max=200, message="说明最多200个字")],
                       filters=[strip_text])


class DecisionForm(Form):
    decision = RadioField("核定结果", choices=choices(DECISIONS.items()), validators=[InputRequired("请选择核定结果")])
    approved = YuanField("核定赔付金额（元）", validators=[Optional()])
    reason_code = SelectField("原因", choices=choices([("", "请选择"), *REASONS.items()]), default="",
                              validators=[Optional()])
    reason_text = TextAreaField("理由", validators=[Optional(), Length(max=500, message="理由最多500个字")],
                                filters=[strip_text])
    clause = StringField("依据条款", validators=[Optional(), Length(max=120, message="条款最多120个字")],
                         filters=[strip_text])


class PayForm(Form):
    method = SelectField("支付方式", choices=choices(PAYOUT_METHODS.items()), default="bank",
                         validators=[InputRequired("请选择支付方式")])


class ChecklistForm(Form):
    items = ItemBoxes("所需材料", choices=choices((key, checklist.label(key)) for key in PRODUCT_ITEMS),
                            validators=[Optional()])
