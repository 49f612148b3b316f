"""Roles of the back office, each a set of permissions. Roles are code, not data: what a role may do is
reviewed with the code that does it, and an administrator can only hand out roles, never invent powers.

Every back-office view names the permission it needs (``app.admin.access.requires``); a role grants
permissions, a staff member holds any number of roles. Permissions no view uses yet are the later screens'
(products and rate tables, agreements, partners, claims, moderation): declared here so that roles already
say what their holders will do.
"""
from dataclasses import dataclass

PERMISSIONS = {
    "staff.manage": "管理后台账号与角色",
    "audit.view": "查看审计日志",
    "audit.export": "导出审计日志",
    "users.lookup": "查询用户、订单、保单与权益券",
    "pii.reveal": "查看完整个人信息（须填写原因）",
    "pii.export": "导出用户个人信息（须填写原因）",
    "dashboard.view": "查看经营数据看板",
    "products.edit": "编辑产品与费率表草稿",
    "products.publish": "审核并发布产品与费率表",
    "offers.edit": "编辑权益券活动",
    "articles.edit": "编辑文章",
    "agreements.edit": "编辑协议与披露",
    "agreements.publish": "审核并发布协议版本",
    "partners.manage": "管理合作商户、门店与商户员工账号",
    "claims.handle": "处理理赔",
    "moderation.review": "审核用户内容",
    "assistant.feedback": "查看智能管家的回答评价",
}


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    permissions: frozenset
    description: str


ROLES = {role.code: role for role in (
    Role("admin", "管理员", frozenset({"staff.manage", "audit.view", "audit.export"}),
         "开设后台账号、分配角色、锁定与重置密码；查看并导出审计日志"),
    Role("ops", "运营", frozenset({"products.edit", "products.publish", "offers.edit", "articles.edit",
                                  "dashboard.view", "assistant.feedback"}),
         "产品、费率表、权益券活动与文章；经营数据看板"),
    Role("compliance", "合规", frozenset({"agreements.edit", "agreements.publish", "audit.view", "pii.export"}),
         "协议与信息披露；查看审计日志；应用户请求导出其个人信息"),
    Role("merchant", "商户管理", frozenset({"partners.manage"}), "合作商户、门店与商户员工账号"),
    Role("support", "客服", frozenset({"users.lookup", "pii.reveal"}),
         "查询用户、订单、保单与权益券；必要时查看完整个人信息"),
    Role("claims", "理赔", frozenset({"claims.handle", "users.lookup"}), "处理理赔案件"),
    Role("moderation", "审核", frozenset({"moderation.review", "assistant.feedback"}),
         "审核评价、反馈与举报；智能管家的词库与回答评价"),
)}

ROLE_BY_LABEL = {role.label: role for role in ROLES.values()}


def role_code(text):
    """A role named by its code (admin) or its label (管理员); None when there is no such role."""
    text = (text or "").strip()
    if text in ROLES:
        return text
    role = ROLE_BY_LABEL.get(text)
    return role.code if role else None


def permissions_of(role_codes):
    granted = set()
    for code in role_codes:
        role = ROLES.get(code)
        if role is not None:
            granted |= role.permissions
    return granted


def labels(role_codes):
    """Role labels in the order ROLES lists them."""
    held = set(role_codes)
    return [role.label for code, role in ROLES.items() if code in held]
