"""The back office's forms for agreement versions (every field guarded by core.forms). The rules that need the
database or the day (a label not yet taken, dates not in the past) are versions.py's. Required text is checked
after its white space is trimmed."""
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.core.forms import Form, strip_text

BODY_MAX = 50000


def _text(value):
    """Surrounding blank lines go; Windows line ends read as the Markdown's own."""
    return strip_text(value).replace("\r\n", "\n")


class VersionForm(Form):
    version = StringField("版本号", validators=[
        DataRequired("请填写版本号"), Length(max=40),
        Regexp(r"[0-9A-Za-z][0-9A-Za-z._-]*\Z", message="版本号为字母、数字或 . _ -，如 2.1")], filters=[strip_text])
    released_on = DateField("发布日期", validators=[InputRequired("请填写发布日期")],
                            invalid_value_message="请按 年-月-日 填写日期")
    effective_on = DateField("生效日期", validators=[InputRequired("请填写生效日期")],
                             invalid_value_message="请按 年-月-日 填写日期")
    summary = TextAreaField("更新内容", validators=[
        DataRequired("请填写本次更新的内容"), Length(max=500, message="更新内容最多500个字")], filters=[_text])
    body = TextAreaField("协议正文（Markdown）", validators=[
        DataRequired("请填写协议正文"), Length(max=BODY_MAX, message=f"协议正文最多{BODY_MAX}个字")], filters=[_text])


class ApproveForm(Form):
    reason = StringField("审核意见（选填）", validators=[Optional(), Length(max=200)], filters=[strip_text])


class ReturnForm(Form):
    reason = StringField("退回原因", validators=[
        DataRequired("请填写退回原因"), Length(min=2, max=200, message="退回原因为2–200个字")], filters=[strip_text])
