"""Demo partners (two car-wash chains, a dental clinic group), their stores in five cities, their
agreements, offers of each kind, and one demo staff account per partner (README names them)."""
from datetime import timedelta

from sqlalchemy import select

from app.agreements import services as agreements
from app.agreements.models import Agreement
from app.core.clock import db_now
from app.extensions import db
from app.vouchers import staff as staff_auth
from app.vouchers.models import Offer, Partner, PartnerStaff, Store

PARTNERS = [
    ("jiechi", "洁驰洗车", "carwash", "连锁快修洗车品牌，门店统一服务标准（演示商户）", [
        ("洁驰洗车·北京朝阳店", "北京", "北京市朝阳区望京街10号", "010-64000001"),
        ("洁驰洗车·北京海淀店", "北京", "北京市海淀区中关村大街27号", "010-62000002"),
        ("洁驰洗车·上海徐汇店", "上海", "上海市徐汇区漕溪北路88号", "021-64000003"),
    ]),
    ("lanjing", "蓝鲸汽车美容", "carwash", "汽车美容与精洗连锁（演示商户）", [
        ("蓝鲸汽车美容·深圳南山店", "深圳", "深圳市南山区科技园南路16号", "0755-86000001"),
        ("蓝鲸汽车美容·广州天河店", "广州", "广州市天河区天河路385号", "020-38000002"),
        ("蓝鲸汽车美容·上海浦东店", "上海", "上海市浦东新区张杨路500号", "021-58000003"),
    ]),
    ("weixiao", "微笑齿科", "dental", "口腔连锁诊所，提供洁牙、检查等服务（演示商户）", [
        ("微笑齿科·北京国贸诊所", "北京", "北京市朝阳区建国门外大街1号", "010-65000001"),
        ("微笑齿科·深圳福田诊所", "深圳", "深圳市福田区福华一路98号", "0755-83000002"),
        ("微笑齿科·成都春熙路诊所", "成都", "成都市锦江区春熙路18号", "028-86000003"),
    ]),
]

# (partner, kind, title, service, terms, price, settlement, stock, limit, category, starts, ends, valid days)
OFFERS = [
    ("jiechi", "carwash", "车险客户专享 · 免费精致洗车", "五座轿车/SUV 精致洗车一次（外观+内饰吸尘）",
     "限持有有效车险保单的用户领取\n每人限领2张，每次到店使用1张\n七座及以上车型需补差价20元", 0, 2500, 500, 2, "auto", -10, 60, 30),
    ("lanjing", "carwash", "9.9元标准洗车", "五座轿车标准洗车一次",
     "到店支付9.9元\n每人限领1张\n节假日可用", 990, 1500, 1000, 1, None, -10, 60, 30),
    ("lanjing", "carwash", "新人免费洗车", "五座轿车标准洗车一次",
     "每人限领1张\n数量有限，领完即止", 0, 2000, 50, 1, None, -5, 30, 14),
    ("weixiao", "dental", "29.9元超声波洗牙", "超声波洁治一次（含口腔检查）",
     "到店支付29.9元\n请提前电话预约\n每人限领1张", 2990, 4000, 300, 1, None, -10, 90, 60),
    ("weixiao", "dental", "医疗险客户专享 · 免费洗牙", "超声波洁治+抛光一次（含口腔检查）",
     "限持有有效医疗险保单的用户领取\n请提前电话预约\n每人限领1张", 0, 8000, 200, 1, "medical", -10, 90, 90),
    ("jiechi", "carwash", "春节前洗车特惠", "五座轿车精致洗车一次",
     "活动开始后领取\n每人限领1张", 0, 2500, 300, 1, None, 20, 80, 30),
]

# Offers honoured only by the stores of some cities (Offer.cities); the others by every store of their partner.
CITIES = {"9.9元标准洗车": "深圳、广州"}

STAFF = [  # username, password, display name, store
    ("jiechi-bj01", "demo-jiechi-2026", "王师傅", "洁驰洗车·北京朝阳店"),
    ("lanjing-sz01", "demo-lanjing-2026", "李店长", "蓝鲸汽车美容·深圳南山店"),
    ("weixiao-bj01", "demo-weixiao-2026", "赵前台", "微笑齿科·北京国贸诊所"),
]

AGREEMENT = """# {name}用户服务协议

本协议由你与{name}（“本商户”）订立，适用于你通过微保平台领取并在本商户门店使用的服务券。

1. 服务券由本商户提供服务，微保平台仅提供领取和核销的技术服务。
2. 你到店使用服务券时，需出示券码或二维码，由门店工作人员核销；**核销后服务券即失效，不可撤销**。
3. 服务券过期未使用的自动失效，不予补发或折现。
4. 为完成核销与结算，本商户将获得你的券码、领取时间及经过隐去处理的微信昵称，不会获得你的手机号码或身份证号码。
5. 服务过程中的质量问题由本商户负责处理，你可以通过门店电话或微保客服反馈。

本协议为演示文本。
"""


def seed_demo_partners(today):
    """Idempotent: only what is missing is created. Returns how many partners were created."""
    created = 0
    now = db_now()
    stores = {}
    for position, (slug, name, kind, description, store_rows) in enumerate(PARTNERS):
        partner = db.session.scalar(select(Partner).where(Partner.slug == slug))
        if partner is None:
            agreement_kind = f"partner-{slug}"
            db.session.add(Agreement(kind=agreement_kind, title=f"{name}用户服务协议", scope="partner",
                                     scope_ref=slug, position=100 + position))
            db.session.flush()
            agreements.publish(agreement_kind, "1.0", today - timedelta(days=14), today - timedelta(days=7),
                               "首次发布", AGREEMENT.format(name=name), now)
            partner = Partner(slug=slug, name=name, kind=kind, description=description,
                              agreement_kind=agreement_kind)
            partner.stores = [Store(name=n, city=c, address=a, phone=p) for n, c, a, p in store_rows]
            db.session.add(partner)
            created += 1
        db.session.flush()
        stores.update({store.name: store for store in partner.stores})
        stores[slug] = partner
    if created:
        for index, (slug, kind, title, service, terms, price, settlement, stock, limit, category, starts, ends,
                    valid) in enumerate(OFFERS):
            db.session.add(Offer(partner_id=stores[slug].id, kind=kind, title=title, service=service, terms=terms,
                                 price_fen=price, settlement_fen=settlement, stock_total=stock, stock_left=stock,
                                 per_user_limit=limit, required_category=category, cities=CITIES.get(title, ""),
                                 starts_on=today + timedelta(days=starts), ends_on=today + timedelta(days=ends),
                                 valid_days=valid, position=index))
    for username, password, display_name, store_name in STAFF:
        if db.session.scalar(select(PartnerStaff.id).where(PartnerStaff.username == username)) is None:
            db.session.add(PartnerStaff(store_id=stores[store_name].id, username=username, display_name=display_name,
                                        password_hash=staff_auth.hash_password(password),
                                        session_token=staff_auth.new_session_token(), created_at=now))
    return created
