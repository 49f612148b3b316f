from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.assistant.chat import QUESTION_MAX
from app.core.forms import Form, choices, strip_text

RATINGS = {"1": "有帮助", "-1": "没帮助"}


class AskForm(Form):
    """A question to 智能管家 (a new conversation carries the product it is about, if any)."""
    question = TextAreaField("你的问题", validators=[InputRequired("请输入你的问题"),
                                                  Length(max=QUESTION_MAX, message=f"问题请不超过{QUESTION_MAX}个字")],
                             filters=[strip_text])
    product = HiddenField(validators=[Optional(), Length(max=80)])


class RatingForm(Form):
    """👍 or 👎 on an answer, with an optional reason."""
    rating = RadioField("这条回答", choices=choices(RATINGS.items()), validators=[InputRequired("请选择有帮助或没帮助")])
    reason = StringField("原因（选填）", validators=[Length(max=200, message="原因请不超过200个字")], filters=[strip_text])
