from wtforms import BooleanField
from wtforms.validators import InputRequired

from app.core.forms import Form


class SurrenderForm(Form):
    confirmed = BooleanField("我确认退保：保单将终止，保费全额原路退回", validators=[InputRequired("请勾选确认退保")])
