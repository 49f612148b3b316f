"""The application (投保单) use cases: start or resume, save each step, price it on the server, submit.

Every step's data is checked again here against the product (age range, relations, shares) whatever
the form said; the premium always comes from the rate table, never from the client.

Flushes at most; the view commits.
"""
import secrets
from datetime import date

from sqlalchemy import select, update
from stdnum.cn import ric

from app.agreements.services import ADULT_AGE
from app.catalog.models import RateTable
from app.catalog.services import QuoteError, quote_premium
from app.core.clock import age_on, db_now
from app.core.domain import DomainError
from app.core.pii import keyed_hash
from app.extensions import db
from app.purchase.models import Application

RELATIONS = {"self": "本人", "spouse": "配偶", "child": "子女", "parent": "父母"}
BENEFICIARY_RELATIONS = {"spouse": "配偶", "child": "子女", "parent": "父母"}
# What a step may say on the next one, by code: the URL carries the code, never the words.
NOTICES = {"repriced": "已按被保险人的实际年龄和条件重新计算保费"}
# Until the insured is known the premium is an estimate for a typical adult.
ESTIMATE = {"age": 30, "gender": "M", "social_security": True}


class ApplicationError(DomainError):
    """A step of the application refused."""


def new_number(today: date) -> str:
    """WB + date + 10 random digits: readable, and not guessable from the one before."""
    return f"WB{today:%Y%m%d}{secrets.randbelow(10**10):010d}"


def find(user, number):
    """The user's own application, or None (someone else's is as good as missing)."""
    return db.session.scalar(select(Application).where(Application.number == number,
                                                       Application.user_id == user.id))


def awaiting_payment(user, product_id):
    return db.session.scalar(select(Application).where(
        Application.user_id == user.id, Application.product_id == product_id,
        Application.status == "awaiting_payment"))


def drafts(user, product_id=None):
    stmt = select(Application).where(Application.user_id == user.id, Application.status == "draft")
    if product_id is not None:
        stmt = stmt.where(Application.product_id == product_id)
    return db.session.scalars(stmt.order_by(Application.updated_at.desc())).all()


def start_or_resume(user, product, today, now):
    """The user's unfinished application for this product, or a new one at step 1."""
    existing = drafts(user, product.id)
    if existing:
        return existing[0]
    in_force = product.rate_table_at(now)
    application = Application(number=new_number(today), user_id=user.id, product_id=product.id,
                              plan_code=product.plans[0].code, frequency="annual", created_at=now, updated_at=now,
                              rate_table_id=in_force.id if in_force else None)
    db.session.add(application)
    db.session.flush()
    return application


def insured_facts(insured, today):
    """(age, gender, 社保) of the insured (the application's "insured" section), else the estimate's."""
    if not insured:
        return ESTIMATE["age"], ESTIMATE["gender"], ESTIMATE["social_security"]
    number = insured["id_number"]
    return (age_on(ric.get_birth_date(number), today), "M" if int(number[16]) % 2 else "F",
            insured.get("social_security", True))


def rate_table_of(application, product):
    """The rate table the application was started under (a later table does not change its price)."""
    table = next((t for t in product.rate_tables if t.id == application.rate_table_id), None)
    if table is None and application.rate_table_id is not None:
        table = db.session.get(RateTable, application.rate_table_id)
    return table or product.rate_table_at(db_now())


def reprice(application, product, today):
    """The premium from the application's rate table for what the application says now."""
    insured = application.details.get("insured")
    age, gender, social = insured_facts(insured, today)
    if not insured:  # the estimate, fitted into the product's ages
        age = min(max(age, product.age_min), product.age_max)
    try:
        quote = quote_premium(product, plan_code=application.plan_code, age=age, today=today, gender=gender,
                              social_security=social, frequency=application.frequency,
                              table=rate_table_of(application, product))
    except QuoteError as error:
        raise ApplicationError(error.message, error.field) from error
    application.premium_fen = quote.per_period_fen
    application.insured_age = age if insured else None
    return quote


def _advance(application, step, now):
    application.step = max(application.step, step + 1)
    application.updated_at = now


def save_plan(application, product, *, plan_code, frequency, today, now):
    if plan_code not in {p.code for p in product.plans}:
        raise ApplicationError("请选择本产品提供的保障方案", "plan")
    if frequency not in product.frequencies:
        raise ApplicationError("本产品不支持该缴费方式", "frequency")
    application.plan_code, application.frequency = plan_code, frequency
    reprice(application, product, today)
    _advance(application, 1, now)


def correct_birth_date(user, id_number):
    """The applicant is the user: the birth date in their ID number replaces one they declared (the
    acceptance step asks for it), even if this application goes no further. Their consents are then
    judged by it (agreements.services.stands): a minor's solo acceptances no longer count. Returns
    whether it changed."""
    birth_date = ric.get_birth_date(id_number)
    if user.id_number or user.birth_date == birth_date:
        return False
    user.birth_date = birth_date
    return True


def save_applicant(application, user, *, name, id_number, mobile, email, province, city, district, address,
                   today, now):
    """The applicant is the user: their real-name identity is taken from the first application and
    locked afterwards (a later application cannot change it)."""
    if user.id_number:
        name, id_number = user.real_name, user.id_number
    if age_on(ric.get_birth_date(id_number), today) < ADULT_AGE:
        raise ApplicationError("投保人须年满18周岁", "id_number")
    if not user.id_number:
        user.real_name, user.id_number, user.id_hash = name, id_number, keyed_hash(id_number)
        user.birth_date = ric.get_birth_date(id_number)  # verified now; replaces a declared one
    application.save_details(applicant={
        "name": name, "id_number": id_number, "mobile": mobile, "email": email,
        "address": {"province": province, "city": city, "district": district, "detail": address}})
    _advance(application, 2, now)


def save_insured(application, product, *, relation, name, id_number, social_security, today, now):
    """Who is insured. Returns a notice code (NOTICES) when the premium changed from what was shown before."""
    applicant = application.details.get("applicant")
    if applicant is None:
        raise ApplicationError("请先填写投保人信息")
    if relation == "self":
        name, id_number = applicant["name"], applicant["id_number"]
    elif id_number == applicant["id_number"]:
        raise ApplicationError("为他人投保时，被保险人不能是投保人本人", "id_number")
    insured_birth = ric.get_birth_date(id_number)
    applicant_birth = ric.get_birth_date(applicant["id_number"])
    age = age_on(insured_birth, today)
    if relation == "parent" and insured_birth >= applicant_birth:
        raise ApplicationError("父母的年龄应大于投保人，请核对身份证号码", "id_number")
    if relation == "child" and insured_birth <= applicant_birth:
        raise ApplicationError("子女的年龄应小于投保人，请核对身份证号码", "id_number")
    if relation == "spouse" and age < 18:
        raise ApplicationError("配偶须年满18周岁", "id_number")
    if not product.age_min <= age <= product.age_max:
        raise ApplicationError(f"本产品仅承保{product.age_range_text}的被保险人，被保险人当前{age}周岁", "id_number")
    before = application.premium_fen
    application.save_details(insured={"relation": relation, "name": name, "id_number": id_number,
                                      "social_security": social_security})
    reprice(application, product, today)
    _advance(application, 3, now)
    if before is not None and before != application.premium_fen:
        return "repriced"
    return None


def save_beneficiaries(application, *, statutory, people, now):
    """法定 by default; named beneficiaries are different people, none of them the insured, and their
    shares come to 100%."""
    if not statutory:
        insured = application.details.get("insured")
        numbers = [p["id_number"] for p in people]
        if not people:
            raise ApplicationError("请至少填写一位受益人，或选择法定受益人", "beneficiaries")
        if len(set(numbers)) != len(numbers):
            raise ApplicationError("同一位受益人只需填写一次", "beneficiaries")
        if insured and insured["id_number"] in numbers:
            raise ApplicationError("被保险人本人不能作为身故受益人", "beneficiaries")
        if sum(p["share"] for p in people) != 100:
            raise ApplicationError("受益比例合计须为100%", "beneficiaries")
    application.save_details(beneficiaries={"statutory": statutory, "people": [] if statutory else people})
    _advance(application, 4, now)


def health_questions(product):
    """The product's own 健康告知 questions: the numbered items of its health declaration."""
    document = next((d for d in product.documents if d.kind == "health"), None)
    return [p for p in (document.paragraphs if document else []) if p[:1].isdigit()]


def save_health(application, product, answers, now):
    """All 否 continues; any 是 ends the online application (no order)."""
    questions = health_questions(product)
    if len(answers) != len(questions) or any(a not in ("yes", "no") for a in answers):
        raise ApplicationError("请逐项回答健康告知问题", "answers")
    application.save_details(health=answers)
    application.updated_at = now
    if "yes" in answers:
        application.status = "declined"
        return False
    _advance(application, 5, now)
    return True


def submit(application, product, today, now):
    """确认投保: the premium once more from the table, then the application waits for payment. A
    conditional UPDATE: of two confirmations at once, one submits (True) and the other does not."""
    if application.step < 6:
        raise ApplicationError("请先完成前面的步骤")
    reprice(application, product, today)
    db.session.flush()
    moved = db.session.execute(update(Application).where(
        Application.id == application.id, Application.status == "draft").values(
        status="awaiting_payment", submitted_at=now, updated_at=now).execution_options(
        synchronize_session=False)).rowcount
    db.session.refresh(application)
    return bool(moved)


def delete(application):
    """删除: the breakpoint and the personal data in it go at once."""
    db.session.delete(application)
