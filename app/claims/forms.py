from flask_wtf.file import FileRequired, MultipleFileField
from stdnum import luhn
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from app.claims.checklist import label
from app.core.forms import Form, YuanField, choices, strip_text

PAYEE_METHODS = {"wechat": "微信零钱（平台代付，通常当天到账）", "bank": "银行卡（由保险公司直接支付）"}


def _bank_account(form, field):
    digits = (field.data or "").replace(" ", "")
    if form.payee_method.data != "bank":
        field.data = ""
        return
    if not digits:
        raise ValidationError("请填写银行卡号")
    if not (digits.isascii() and digits.isdigit()) or not 12 <= len(digits) <= 19:
        raise ValidationError("银行卡号为12–19位数字")
    if len(digits) >= 16 and digits[0] == "6" and not luhn.is_valid(digits):
        raise ValidationError("银行卡号有误，请核对")
    field.data = digits


class NewClaimForm(Form):
    """申请理赔: what happened, how much (for reimbursement kinds), where the money goes."""
    event_date = DateField("出险日期", validators=[InputRequired("请填写出险日期")],
                           invalid_value_message="请按 年-月-日 填写出险日期")
    description = TextAreaField("事故经过", validators=[InputRequired("请简要描述事故经过"),
                                                      Length(10, 1000, "请用10–1000个字描述事故经过")],
                                filters=[strip_text])
    amount = YuanField("申请金额（元）", validators=[Optional()])
    reimbursed_elsewhere = BooleanField("已通过医保或其他保险报销部分费用")
    payee_method = RadioField("收款方式", choices=choices(PAYEE_METHODS.items()), default="wechat",
                              validators=[InputRequired("请选择收款方式")])
    bank_name = StringField("开户银行", validators=[Length(max=40)], filters=[strip_text])
    bank_account = StringField("银行卡号", validators=[_bank_account], render_kw={"inputmode": "numeric"})
    accept_waiting = BooleanField("我已了解等待期的约定，仍要申请理赔")

    def validate_bank_name(self, field):
        if self.payee_method.data == "bank" and not field.data:
            raise ValidationError("请填写开户银行")

    def payee(self):
        if self.payee_method.data == "bank":
            return {"method": "bank", "bank": self.bank_name.data, "account": self.bank_account.data}
        return {"method": "wechat"}


class UploadForm(Form):
    """Documents for one checklist item (several files at once)."""
    item = SelectField("材料类型", validators=[InputRequired("请选择材料类型")])
    files = MultipleFileField("选择文件", validators=[FileRequired("请选择要上传的照片或 PDF")])

    def for_items(self, items):
        self.item.choices = [(item, label(item)) for item in items]
        return self


class AppealForm(Form):
    reason = TextAreaField("复核理由", validators=[InputRequired("请写明申请复核的理由"),
                                                Length(10, 500, "请用10–500个字写明理由")], filters=[strip_text])


class PhoneUploadForm(Form):
    """The phone's page of 用手机拍照上传: which item, and the photos (the camera opens by itself)."""
    item = StringField("材料类型", validators=[InputRequired("请选择材料类型"), Length(max=30)])
    files = MultipleFileField("拍照或选择照片", validators=[FileRequired("请先拍照或选择照片")])
