"""The messages we send, each declared once: its key (what the record says), the setting that holds
WeChat's template id, and its kind. A promotional message needs the user's 推广信息 switch on; a service
message (about the user's own application, claim or question) does not, but may name a switch of its
own (投保断点提醒 for the breakpoint reminder). Later capabilities add theirs here ("claim needs more
documents", "consultation answered") and call ``notify``."""
from dataclasses import dataclass

SERVICE, PROMOTIONAL = "service", "promotional"


@dataclass(frozen=True)
class Template:
    key: str
    kind: str
    setting: str  # the config key of WeChat's template id
    switch: str | None = None  # a User flag that must be on as well

    def refusal(self, user):
        """Why ``user`` is not to get this message now (a short code for the record), or None."""
        if self.kind == PROMOTIONAL and not user.promotions_enabled:
            return "promotions_off"
        if self.switch and not getattr(user, self.switch):
            return f"{self.switch.removesuffix('_enabled')}_off"
        return None


APPLICATION_REMINDER = Template("application_reminder", SERVICE, "WECHAT_TEMPLATE_REMINDER",
                                switch="reminders_enabled")
PROMOTION = Template("promotion", PROMOTIONAL, "WECHAT_TEMPLATE_PROMOTION")
CLAIM_UPDATE = Template("claim_update", SERVICE, "WECHAT_TEMPLATE_CLAIM")
CONSULT_REPLY = Template("consult_reply", SERVICE, "WECHAT_TEMPLATE_CONSULT")  # 客服回复了你 (you were away)

TEMPLATES = {template.key: template for template in (APPLICATION_REMINDER, PROMOTION, CLAIM_UPDATE, CONSULT_REPLY)}
