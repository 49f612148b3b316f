"""What a claim needs: its kind follows the product's category, the documents follow the kind (or the product's
own list, set in the back office), and two answers add more (reimbursed elsewhere: the 医保 settlement; an
insured minor: the guardian's ID and proof of the relationship). Every claim needs the claimant's ID and the
bank card the money goes to."""
import json

from sqlalchemy import select

from app.catalog.models import Category
from app.claims.models import ClaimChecklist
from app.extensions import db

KINDS = {"medical": "医疗费用报销", "critical": "重疾确诊给付", "accident": "意外伤害", "life": "身故/全残给付",
         "auto": "车险事故"}
CATEGORY_KINDS = {"medical": "medical", "critical-illness": "critical", "accident": "accident", "term-life": "life",
                  "auto": "auto"}
# The kinds whose claim is an amount spent (asked for); the others pay the sum insured or a scale.
AMOUNT_KINDS = ("medical", "accident", "auto")

ITEMS = {
    "invoice": ("医疗费用发票", "医院开具的收费票据原件照片，每张都需要"),
    "cost_list": ("费用明细清单", "住院或门诊的费用明细"),
    "medical_record": ("病历", "门（急）诊病历或住院病历"),
    "discharge": ("出院小结", "住院治疗的须提供"),
    "diagnosis": ("诊断证明", "医院出具、盖章的诊断证明书"),
    "pathology": ("病理报告", "确诊重大疾病所依据的病理或检查报告"),
    "settlement": ("医保结算单", "已通过医保或其他保险报销部分费用的，提供结算单"),
    "accident_proof": ("意外事故证明", "交通事故认定书、单位或派出所出具的事故证明等"),
    "disability": ("伤残鉴定书", "申请伤残给付的，提供司法鉴定机构的鉴定书"),
    "death_certificate": ("死亡证明", "医院或公安机关出具的死亡证明"),
    "accident_report": ("事故认定书", "交警出具的事故认定书或快处协议书"),
    "repair_invoice": ("维修发票与清单", "定损维修的发票与维修清单"),
    "scene_photos": ("现场与车损照片", "事故现场与车辆受损部位的照片"),
    "driver_license": ("驾驶证", "事故时驾驶员的驾驶证"),
    "vehicle_license": ("行驶证", "被保险车辆的行驶证"),
    "id_card": ("申请人身份证", "正反面"),
    "bank_card": ("收款银行卡", "申请人本人名下的银行卡正面"),
    "guardian_id": ("监护人身份证", "被保险人未成年，由监护人申请时提供"),
    "relationship": ("监护关系证明", "户口簿或出生医学证明"),
    "other": ("其他材料", "审核人员要求的其他材料"),
}
DEFAULTS = {
    "medical": ["invoice", "cost_list", "medical_record", "discharge", "diagnosis"],
    "critical": ["diagnosis", "pathology", "medical_record"],
    "accident": ["accident_proof", "medical_record", "invoice", "diagnosis"],
    "life": ["death_certificate", "accident_proof"],
    "auto": ["accident_report", "scene_photos", "repair_invoice", "driver_license", "vehicle_license"],
}
EVERY_CLAIM = ["id_card", "bank_card"]
MINOR = ["guardian_id", "relationship"]
# A product's own list may leave out what a kind usually asks, never these.
ALWAYS = set(EVERY_CLAIM)


def kind_of(product):
    category = db.session.scalar(select(Category.slug).where(Category.id == product.category_id))
    return CATEGORY_KINDS.get(category, "medical")


def product_items(product):
    """The product's own list (the back office's), else its kind's default; without the claimant's items."""
    own = db.session.scalar(select(ClaimChecklist.items).where(ClaimChecklist.product_id == product.id))
    return json.loads(own) if own else list(DEFAULTS[kind_of(product)])


def required(product, *, reimbursed_elsewhere=False, minor=False):
    """The checklist of one claim, in order, as ITEMS keys."""
    items = [key for key in product_items(product) if key != "settlement"]
    if reimbursed_elsewhere and kind_of(product) in ("medical", "accident"):
        items.append("settlement")
    items += EVERY_CLAIM
    if minor:
        items += MINOR
    return list(dict.fromkeys(items))


def label(key):
    return ITEMS.get(key, (key, ""))[0]
