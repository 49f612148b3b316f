"""在线客服's forms (every field guarded by core.forms): the user's message, rating; the support team's reply,
transfer and canned replies. Which canned replies and colleagues there are is the view's to fill in."""
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.assistant.consult import MESSAGE_MAX, REPLY_MAX
from app.core.forms import Form, choices, strip_text

RATINGS = {"5": "5 星 · 非常满意", "4": "4 星 · 满意", "3": "3 星 · 一般", "2": "2 星 · 不满意", "1": "1 星 · 非常不满意"}


class ConsultStartForm(Form):
    """A new consultation: the first message; ``source`` is the conversation with 智能管家 it comes from."""
    content = TextAreaField("你想咨询什么", validators=[
        DataRequired("请写下你想咨询的问题"), Length(max=MESSAGE_MAX, message=f"一次最多{MESSAGE_MAX}个字")],
        filters=[strip_text])
    source = StringField("来自对话", validators=[
        Optional(), Length(max=32), Regexp(r"[A-Za-z0-9_-]+\Z", message="对话编号有误")], filters=[strip_text])


class ConsultMessageForm(Form):
    content = TextAreaField("消息", validators=[
        DataRequired("请输入消息内容"), Length(max=MESSAGE_MAX, message=f"一次最多{MESSAGE_MAX}个字")],
        filters=[strip_text])


class ConsultRatingForm(Form):
    rating = RadioField("评分", choices=choices(RATINGS.items()), validators=[InputRequired("请选择评分")])
    comment = TextAreaField("评价（选填）", validators=[Optional(), Length(max=200, message="评价最多200个字")],
                            filters=[strip_text])


class ConsultReplyForm(Form):
    canned = SelectField("常用回复", choices=choices([("", "不使用")]), default="", validators=[Optional()])
    content = TextAreaField("回复", validators=[
        Optional(), Length(max=REPLY_MAX, message=f"回复最多{REPLY_MAX}个字")], filters=[strip_text])

    def offer(self, replies):
        self.canned.choices = choices([("", "不使用"), *((str(r.id), r.title) for r in replies)])
        return self


class ConsultTransferForm(Form):
    to = SelectField("转接给", choices=choices([("", "请选择同事")]), default="",
                     validators=[InputRequired("请选择一位同事")])

    def offer(self, colleagues):
        self.to.choices = choices([("", "请选择同事"), *((str(c.id), c.display_name) for c in colleagues)])
        return self


class CannedReplyForm(Form):
    title = StringField("标题", validators=[DataRequired("请填写标题"), Length(max=40, message="标题最多40个字")],
                        filters=[strip_text])
    body = TextAreaField("正文", validators=[
        DataRequired("请填写正文"), Length(max=REPLY_MAX, message=f"正文最多{REPLY_MAX}个字")], filters=[strip_text])
