"""What the back office's screens for products and rate tables need in tests: route arguments for the property test
(``tests.support.admin.argument``), its form baselines, and fixtures."""
from sqlalchemy import select

from app.catalog.models import Category, Insurer, Plan
from app.extensions import db
from tests.support.admin import BASELINES, argument
from tests.support.rates import copy_product

# Products (运营's product screens: app/catalog/admin_views.py) ------------------------------------------------


def draft_of(world):
    """The draft the property test's product URLs name: one a world, so that plan_id is one of its plans."""
    if getattr(world, "product_draft", None) is None:
        world.product_draft = copy_product(world.app, on_sale=False)
    return world.product_draft


def plan_ids(app, product_id):
    with app.app_context():
        return db.session.scalars(select(Plan.id).where(Plan.product_id == product_id).order_by(Plan.position)).all()


def reference_ids(app):
    """A category's and an insurer's id, as the product form's selects send them."""
    with app.app_context():
        return (str(db.session.scalar(select(Category.id).order_by(Category.id).limit(1))),
                str(db.session.scalar(select(Insurer.id).order_by(Insurer.id).limit(1))))


argument("product_id")(lambda world: draft_of(world).id)
@argument("plan_id")
def unpriced_plan(world):
    """A plan of the world's draft that no rate table prices (so its code may change, and it may go)."""
    with world.app.app_context():
        product_id = draft_of(world).id
        plan = Plan(product_id=product_id, code=f"hostile-{product_id}-{len(plan_ids(world.app, product_id))}",
                    name="测试方案", sum_assured_fen=100_00, position=99)
        db.session.add(plan)
        db.session.commit()
        return plan.id
argument("document_kind")(lambda world: "clauses")

PRODUCT = {"name": "安心测试医疗险", "slug": "hostile-product", "tagline": "一年几百元，保几百万", "category": "1",
           "insurer": "1", "age_min": "0", "age_max": "65", "coverage_period": "1年", "waiting_period_days": "30",
           "cooling_off_days": "15", "renewal": "保证续保", "highlights": "住院医疗", "payment_frequencies": "annual",
           "monthly_loading_permille": "1000"}

BASELINES.update({
    "ProductFilterForm": {"state": "draft"},
    "ProductForm": PRODUCT,
    "ProductPlanForm": {"code": "hostile", "name": "基础版", "sum_assured": "3000000", "items-0-name": "住院医疗",
                        "items-0-limit": "3000000", "items-0-deductible": "10000"},
    "ProductDocumentForm": {"title": "保险条款", "body": "## 第一条 保险责任"},
    "ProductFaqForm": {"rows-0-question": "可以退保吗？", "rows-0-answer": "犹豫期内全额退保。"},
    "ProductNoteForm": {"note-note": "请审核"},
    "ProductPublishForm": {"approve-note": "已核对", "republish-note": "恢复销售"},
    "SendBackForm": {"back-reason": "条款需要修改"},
    "ProductWithdrawForm": {"withdraw-reason": "停售"},
})
