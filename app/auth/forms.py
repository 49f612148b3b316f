from app.core.forms import Form


class ActionForm(Form):
    """A button that changes state (确认登录, 取消, 退出登录): a CSRF token and nothing else."""
