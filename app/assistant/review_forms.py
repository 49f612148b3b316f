"""The term library's forms in the back office (every field guarded by core.forms). Whether a term is already in the
library (as normalised) is review.py's, and its message lands on the field it names."""
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.assistant.models import TERM_ACTIONS, VERDICTS
from app.assistant.review import CATEGORIES, GIBBERISH, INJECTION, OTHERS_DATA, RESTRICTED
from app.core.forms import Form, QueryForm, choices, strip_text

TERM_STATES = {"live": "在用", "retired": "已停用", "all": "全部"}
STAGES = {"input": "用户提问", "output": "回答"}
EVENT_CATEGORIES = (*CATEGORIES, GIBBERISH, INJECTION, OTHERS_DATA, RESTRICTED)


class TermFilterForm(QueryForm):
    category = SelectField("类别", choices=choices([("", "全部"), *((c, c) for c in CATEGORIES)]), default="")
    action = SelectField("处理方式", choices=choices([("", "全部"), *TERM_ACTIONS.items()]), default="")
    state = SelectField("状态", choices=choices(TERM_STATES.items()), default="live")
    q = StringField("搜索词条", validators=[Optional(), Length(max=40, message="最多填写 40 个字")], filters=[strip_text])


class TermForm(Form):
    term = StringField("词条", validators=[InputRequired("请填写词条"), Length(max=50, message="词条最多50个字")],
                       filters=[strip_text])
    category = SelectField("类别", choices=choices([("", "请选择"), *((c, c) for c in CATEGORIES)]), default="",
                           validators=[InputRequired("请选择类别")])
    action = SelectField("处理方式", choices=choices([("", "请选择"), *TERM_ACTIONS.items()]), default="",
                         validators=[InputRequired("请选择处理方式")])


class RetireTermForm(Form):
    reason = StringField("停用原因", validators=[InputRequired("请填写停用原因"),
                                             Length(min=2, max=200, message="原因为2–200个字")], filters=[strip_text])


class EventFilterForm(QueryForm):
    stage = SelectField("环节", choices=choices([("", "全部"), *STAGES.items()]), default="")
    verdict = SelectField("结果", choices=choices([("", "全部"), *((k, v) for k, v in VERDICTS.items() if k != "ok")]),
                          default="")
    category = SelectField("类别", choices=choices([("", "全部"), *((c, c) for c in EVENT_CATEGORIES)]), default="")
