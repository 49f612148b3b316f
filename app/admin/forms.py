"""The back office's forms (every field guarded by core.forms)."""
import re

from wtforms import HiddenField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields import DateField
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.admin.audit import ACTIONS, OBJECT_TYPES
from app.admin.roles import ROLES
from app.core.forms import Form, QueryForm, choices, strip_text

PASSWORD_RULE = "至少10个字符"


class LoginForm(Form):
    username = StringField("用户名", validators=[InputRequired("请输入用户名"), Length(max=40)], filters=[strip_text])
    password = PasswordField("密码", validators=[InputRequired("请输入密码"), Length(max=200)])
    next = HiddenField()


def _not_username(form, field):
    username = getattr(form, "username_value", None)
    if username and field.data and username.lower() in field.data.lower():
        raise ValidationError("密码不能包含用户名")


class NewPasswordForm(Form):
    password = PasswordField("新密码", validators=[
        InputRequired("请设置新密码"), Length(min=10, max=200, message="密码长度为10–200个字符"), _not_username])
    confirm = PasswordField("再次输入新密码", validators=[
        InputRequired("请再次输入新密码"), Length(max=200), EqualTo("password", "两次输入的密码不一致")])

    def __init__(self, *args, username=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.username_value = username


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("当前密码", validators=[InputRequired("请输入当前密码"), Length(max=200)])


class CodeForm(Form):
    code = StringField("验证码或恢复码", validators=[InputRequired("请输入验证码"), Length(max=20)], filters=[strip_text])


class EnrolForm(Form):
    code = StringField("身份验证器显示的6位验证码", validators=[
        InputRequired("请输入验证码"), Length(max=10)], filters=[strip_text])
    sealed = HiddenField()


class TotpConfirmForm(Form):
    """A sensitive step of a signed-in staff member asks for a current code again."""
    code = StringField("身份验证器显示的6位验证码", validators=[
        InputRequired("请输入验证码"), Length(max=10)], filters=[strip_text])


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


ROLE_CHOICES = [(code, role.label) for code, role in ROLES.items()]
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,39}")


class StaffForm(Form):
    username = StringField("用户名", validators=[
        InputRequired("请填写用户名"), Length(max=40),
        Regexp(USERNAME.pattern + r"\Z", message="用户名为3–40位小写字母、数字或 . _ -，以字母或数字开头")],
        filters=[lambda v: strip_text(v).lower()])
    display_name = StringField("姓名", validators=[InputRequired("请填写姓名"), Length(max=40)], filters=[strip_text])
    roles = CheckboxesField("角色", choices=choices(ROLE_CHOICES),
                            validators=[InputRequired("请至少选择一个角色")])


class RolesForm(Form):
    roles = CheckboxesField("角色", choices=choices(ROLE_CHOICES), validators=[Optional()])
    reason = StringField("原因（选填）", validators=[Optional(), Length(max=200)], filters=[strip_text])


class ReasonForm(Form):
    """Lock, unlock, reset: the reason is asked and recorded."""
    reason = StringField("原因", validators=[InputRequired("请填写原因"), Length(min=2, max=200, message="原因为2–200个字")],
                         filters=[strip_text])


REVEALABLE = {"mobile": "手机号码", "real_name": "姓名", "id_number": "身份证号码", "email": "电子邮箱"}


class RevealForm(Form):
    field = SelectField("要查看的信息", choices=choices(REVEALABLE.items()), validators=[InputRequired()])
    reason = StringField("查看原因", validators=[
        InputRequired("请填写查看原因"), Length(min=4, max=200, message="原因为4–200个字")], filters=[strip_text])


class DataExportForm(Form):
    """A user's personal data as a file (合规): the reason is asked and recorded."""
    reason = StringField("导出原因", validators=[
        InputRequired("请填写导出原因"), Length(min=4, max=200, message="原因为4–200个字")], filters=[strip_text])


LOOKUP_KINDS = {"nickname": "微信昵称", "order": "订单号", "policy": "保单号", "application": "投保单号",
                "voucher": "券码"}


class LookupForm(QueryForm):
    kind = SelectField("查找方式", choices=choices(LOOKUP_KINDS.items()), default="nickname")
    q = StringField("查找内容", validators=[Optional(), Length(max=40)], filters=[strip_text])


class MobileLookupForm(QueryForm):
    last4 = StringField("手机尾号", validators=[Optional(), Regexp(r"\d{4}\Z", message="请输入手机号码的后4位数字"),
                                                Length(max=4)], filters=[strip_text])
    name = StringField("姓名", validators=[Optional(), Length(max=50)], filters=[strip_text])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.last4.data and not self.last4.errors:
            self.last4.errors = [*self.last4.errors, "请输入手机号码的后4位数字"]
            valid = False
        if not self.name.data and not self.name.errors:
            self.name.errors = [*self.name.errors, "请同时填写用户的真实姓名"]
            valid = False
        return valid


class AuditFilterForm(QueryForm):
    staff = SelectField("操作人", default="")
    action = SelectField("操作", default="")
    object_type = SelectField("对象类型", default="")
    object_id = StringField("对象编号", validators=[Optional(), Length(max=40)], filters=[strip_text])
    start = DateField("开始日期", name="from", validators=[Optional()], invalid_value_message="请按 年-月-日 填写日期")
    end = DateField("结束日期", name="to", validators=[Optional()], invalid_value_message="请按 年-月-日 填写日期")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when the form is built: each capability registers its actions as it is imported.
        self.action.choices = choices([("", "全部"), *ACTIONS.items()])
        self.object_type.choices = choices([("", "全部"), *OBJECT_TYPES.items()])

    def set_staff(self, staff):
        self.staff.choices = choices([("", "全部"), *((str(s.id), f"{s.display_name}（{s.username}）") for s in staff)])
        return self
