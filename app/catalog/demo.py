"""The demo catalog `flask seed-demo` loads: fictional insurers and products, clearly marked as demo data.

Rates are generated from per-category age curves and factors, then stored as ordinary rate-table rows;
nothing at run time knows they were generated.
"""
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.catalog.models import (
    Category,
    CoverageItem,
    Document,
    Faq,
    Insurer,
    Plan,
    Product,
    RateRow,
    RateTable,
)
from app.catalog.services import table_prices
from app.core.clock import SHANGHAI, to_local
from app.core.money import round_fen
from app.extensions import db

WAN = 10000_00  # 1万元 in fen

INSURERS = [
    ("hexin", "和信财产保险股份有限公司", "和信财险"),
    ("kangning", "康宁人寿保险股份有限公司", "康宁人寿"),
    ("jiahe", "嘉禾健康保险股份有限公司", "嘉禾健康"),
    ("tongzhou", "同舟人寿保险股份有限公司", "同舟人寿"),
]

CATEGORIES = [
    ("medical", "百万医疗", "住院医疗费用报销，一年几百元保几百万"),
    ("critical-illness", "重疾", "确诊即赔一笔钱，弥补收入损失"),
    ("accident", "意外", "意外身故伤残与意外医疗"),
    ("term-life", "定期寿险", "家庭顶梁柱的责任保障"),
    ("auto", "车险", "车主与驾乘人员的出行保障"),
]

BANDS = [(0, 4), (5, 10), (11, 15), (16, 20), (21, 25), (26, 30), (31, 35), (36, 40), (41, 45),
         (46, 50), (51, 55), (56, 60), (61, 65), (66, 70)]

# Annual premium in yuan per age band for the reference plan (male, with 社保 where that matters).
CURVES = {
    "medical": [420, 180, 120, 110, 130, 160, 220, 290, 380, 520, 720, 980, 1450, 2100],
    "critical-illness": [1800, 2000, 2300, 2700, 3100, 3600, 4300, 5200, 6400, 8000, 10200, 12800, 15500, 18600],
    "accident": [60, 60, 60, 80, 99, 99, 99, 99, 120, 120, 150, 180, 220, 260],
    "term-life": [150, 150, 150, 300, 350, 420, 560, 760, 1080, 1560, 2300, 3400, 4800, 6500],
    "auto": [90, 90, 90, 120, 120, 118, 118, 120, 130, 140, 160, 180, 220, 260],
}
FEMALE = {"medical": Decimal("1.06"), "critical-illness": Decimal("0.92"), "term-life": Decimal("0.58")}
WITHOUT_SOCIAL_SECURITY = Decimal("1.85")

CATEGORY_TERMS = {
    "medical": dict(coverage_period="1年", waiting_period_days=30, gender=True, social=True,
                    frequencies="annual,monthly"),
    "critical-illness": dict(coverage_period="保至70岁", waiting_period_days=90, gender=True, social=False,
                             frequencies="annual,monthly"),
    "accident": dict(coverage_period="1年", waiting_period_days=0, gender=False, social=False,
                     frequencies="annual"),
    "term-life": dict(coverage_period="保至60岁", waiting_period_days=180, gender=True, social=False,
                      frequencies="annual"),
    "auto": dict(coverage_period="1年", waiting_period_days=0, gender=False, social=False,
                 frequencies="annual"),
}

RENEWAL = {
    "medical": "保证续保20年，期间产品停售也可续保，费率可能调整",
    "critical-illness": "长期保障，缴费期内无需续保",
    "accident": "不保证续保，期满需重新投保",
    "term-life": "长期保障，缴费期内无需续保",
    "auto": "不保证续保，期满需重新投保",
}

# (slug, name, tagline, insurer, age_min, age_max, product factor, sales, featured, highlights)
PRODUCTS = {
    "medical": [
        ("anxin-million-medical", "安心百万医疗2026", "一般医疗200万，重疾医疗400万，住院花多少报多少", "jiahe", 0, 65, "1.00", 182000, True,
         "保证续保20年\n重疾0免赔\n可选月缴"),
        ("kangning-e-medical", "康宁e保百万医疗", "年免赔1万，社保内外都能报，质子重离子可选", "kangning", 0, 60, "0.92", 96000, False,
         "医保内外均可报\n质子重离子可选"),
        ("nuanxin-long-term-medical", "暖心长期医疗（20年保证续保）", "20年不停售不涨价之外的长期医疗", "tongzhou", 0, 60, "1.18", 64000, True,
         "20年保证续保\n外购药直付"),
        ("lexiang-hospital-medical", "乐享住院医疗", "住院医疗低门槛，1万免赔额外可选0免赔版", "hexin", 16, 65, "0.85", 38000, False,
         "性价比高\n投保门槛低"),
        ("xiaotong-million-medical", "小童百万医疗", "专为0–17岁孩子设计，门急诊可选", "jiahe", 0, 17, "0.80", 51000, False,
         "少儿专属\n门急诊可选"),
        ("yinling-cancer-medical", "银龄防癌医疗", "46–70岁也能投，癌症医疗费用报销", "kangning", 46, 70, "0.55", 27000, False,
         "老人可投\n健康告知宽松"),
        ("shouhu-family-medical", "守护百万医疗·家庭版", "全家一张保单，共享免赔额", "hexin", 0, 65, "1.05", 73000, False,
         "家庭共享免赔额\n可选月缴"),
    ],
    "critical-illness": [
        ("kanghu-lifetime-ci", "康护一生重疾险", "110种重疾，轻中症多次赔，保至70岁", "kangning", 0, 55, "1.00", 45000, True,
         "重疾110种\n轻中症多次赔"),
        ("xingchen-child-ci", "星辰少儿重疾", "少儿特疾额外赔，保费低至百元", "tongzhou", 0, 17, "0.75", 38000, True,
         "少儿特疾额外赔\n投保后豁免保费"),
        ("ankang-multi-ci", "安康多次赔重疾", "重疾分组多次赔，癌症二次赔可选", "kangning", 0, 50, "1.22", 21000, False,
         "重疾多次赔\n癌症二次赔"),
        ("beihu-ci", "倍护重疾险", "60岁前确诊额外赔80%", "tongzhou", 18, 55, "1.10", 17000, False,
         "60岁前额外赔\n轻症豁免"),
        ("qingchun-ci", "青春版重疾险", "18–40岁年轻人专属，保费更低", "jiahe", 18, 40, "0.82", 26000, False,
         "年轻人专属\n保费低"),
        ("huixiang-term-ci", "惠享定期重疾", "保至70岁，保费是终身型的三分之一", "hexin", 18, 55, "0.70", 12000, False,
         "定期更便宜\n可选月缴"),
        ("shouxin-cancer", "守心防癌险", "专注癌症，三高人群也能投", "jiahe", 18, 60, "0.45", 9000, False,
         "三高可投\n癌症确诊即赔"),
    ],
    "accident": [
        ("changxing-accident", "畅行综合意外险", "意外身故伤残100万，意外医疗0免赔", "hexin", 18, 65, "1.00", 210000, True,
         "意外医疗0免赔\n猝死可保"),
        ("xiaoan-child-accident", "少儿安心意外", "孩子磕碰摔伤都能报，含住院津贴", "hexin", 0, 17, "0.90", 88000, False,
         "磕碰摔伤都能报\n含住院津贴"),
        ("yinfa-accident", "银发无忧意外险", "50–70岁老人意外，骨折额外赔", "tongzhou", 50, 70, "1.20", 47000, True,
         "骨折额外赔\n老人专属"),
        ("chuxing-traffic-accident", "出行交通意外险", "飞机火车轮船自驾都保，一年不到百元", "jiahe", 18, 70, "0.60", 65000, False,
         "交通工具全覆盖\n保费低"),
        ("zhichang-accident", "职场全能意外", "上下班途中与出差意外都保", "kangning", 18, 60, "0.95", 31000, False,
         "上下班途中\n出差意外"),
        ("yundong-accident", "运动达人意外险", "跑步骑行滑雪等运动意外保障", "hexin", 16, 55, "1.10", 14000, False,
         "运动意外\n含救援服务"),
        ("jiating-accident", "家庭共享意外险", "一家人共享保额，成员随时增减", "tongzhou", 0, 65, "1.05", 22000, False,
         "家庭共享保额\n成员随时增减"),
    ],
    "term-life": [
        ("shouwang-term-life", "守望定期寿险", "身故全残赔付，健康告知仅3条", "tongzhou", 18, 60, "1.00", 52000, True,
         "健康告知宽松\n保额最高300万"),
        ("dingliangzhu-term-life", "顶梁柱定期寿险", "房贷车贷的家庭责任，一份保单扛起", "kangning", 18, 55, "0.92", 41000, False,
         "保额高\n可选保至65岁"),
        ("anwen-term-life", "安稳家定期寿险", "免体检保额高，线上即可投保", "tongzhou", 18, 50, "1.08", 18000, False,
         "免体检额度高\n线上投保"),
        ("hengshou-term-life", "恒守定期寿险", "非吸烟者费率更优", "kangning", 18, 60, "0.88", 15000, False,
         "非吸烟优选费率\n身故全残同赔"),
        ("dawu-term-life", "大爱无忧定寿", "不限职业类别，高危职业也能投", "jiahe", 18, 55, "1.25", 8000, False,
         "职业限制少\n理赔快"),
        ("hujia-term-life", "护家定期寿险", "夫妻互保，一方身故豁免另一方保费", "tongzhou", 20, 55, "0.97", 11000, False,
         "夫妻互保\n保费豁免"),
    ],
    "auto": [
        ("jiacheng-accident", "驾乘无忧意外险", "驾驶或乘坐私家车意外，每座保额20万", "hexin", 18, 70, "1.00", 76000, True,
         "按座位保障\n含道路救援"),
        ("chezhu-quanneng", "车主全能保", "车主本人驾乘意外加第三方人伤补充", "hexin", 18, 65, "1.30", 42000, False,
         "驾乘意外\n人伤补充"),
        ("wangyueche-driver", "网约车司机意外险", "营运期间驾乘意外，按年投保", "jiahe", 18, 60, "1.60", 23000, False,
         "营运车辆可保\n乘客同保"),
        ("xinnengyuan-driver", "新能源车主驾乘险", "含充电意外与电池自燃导致的人身伤害", "kangning", 18, 65, "1.10", 19000, False,
         "充电意外\n自燃伤害"),
        ("zijiayou-travel", "自驾游出行保", "自驾游途中驾乘意外与医疗", "tongzhou", 18, 70, "0.75", 28000, False,
         "自驾游专属\n含医疗转运"),
        ("changtu-driver", "长途司机意外险", "货车与长途客运司机的驾乘保障", "hexin", 18, 60, "1.80", 9000, False,
         "货车司机可投\n高额医疗"),
    ],
}

# (plan code, name, description, premium factor, sum assured in fen, coverage rows)
# A coverage row: (item, limit in fen or None, limit text, deductible in fen, notes)
PLANS = {
    "medical": [
        ("basic", "基础版", "一般医疗 + 重疾医疗", Decimal("1.00"), 200 * WAN, [
            ("一般医疗保险金", 200 * WAN, "", 1 * WAN, "含住院医疗、特殊门诊、门诊手术，报销比例100%（有社保且经社保报销）"),
            ("重大疾病医疗保险金", 400 * WAN, "", 0, "确诊120种重大疾病后，住院费用0免赔"),
            ("住院前后门急诊", None, "前7天后30天", 0, "与一般医疗共用免赔额"),
        ]),
        ("plus", "升级版", "加质子重离子与院外特药", Decimal("1.38"), 400 * WAN, [
            ("一般医疗保险金", 200 * WAN, "", 1 * WAN, "含住院医疗、特殊门诊、门诊手术，报销比例100%（有社保且经社保报销）"),
            ("重大疾病医疗保险金", 400 * WAN, "", 0, "确诊120种重大疾病后，住院费用0免赔"),
            ("质子重离子医疗", 400 * WAN, "", 0, "限指定医院"),
            ("院外特定药品费用", 200 * WAN, "", 0, "119种特药，药店直付"),
            ("重疾住院津贴", None, "200元/天，最长30天", 0, "因重大疾病住院时按日给付"),
        ]),
    ],
    "critical-illness": [
        ("sa30", "30万保额", "重疾赔30万", Decimal("1.00"), 30 * WAN, [
            ("重大疾病保险金（110种）", 30 * WAN, "", 0, "确诊即赔，赔付后合同终止"),
            ("中症保险金（25种）", 18 * WAN, "", 0, "按保额60%赔付，最多2次"),
            ("轻症保险金（40种）", 9 * WAN, "", 0, "按保额30%赔付，最多3次"),
            ("身故保险金", None, "返还已交保费", 0, "18周岁后身故按已交保费赔付"),
            ("被保险人豁免", None, "轻中症豁免后续保费", 0, ""),
        ]),
        ("sa50", "50万保额", "重疾赔50万", Decimal("1.6667"), 50 * WAN, [
            ("重大疾病保险金（110种）", 50 * WAN, "", 0, "确诊即赔，赔付后合同终止"),
            ("中症保险金（25种）", 30 * WAN, "", 0, "按保额60%赔付，最多2次"),
            ("轻症保险金（40种）", 15 * WAN, "", 0, "按保额30%赔付，最多3次"),
            ("身故保险金", None, "返还已交保费", 0, "18周岁后身故按已交保费赔付"),
            ("被保险人豁免", None, "轻中症豁免后续保费", 0, ""),
        ]),
    ],
    "accident": [
        ("basic", "基础版", "身故伤残50万", Decimal("1.00"), 50 * WAN, [
            ("意外身故、伤残", 50 * WAN, "", 0, "伤残按《人身保险伤残评定标准》比例赔付"),
            ("意外医疗", 5 * WAN, "", 100_00, "不限社保，免赔额100元后100%报销"),
            ("意外住院津贴", None, "100元/天", 0, "每次最长90天"),
        ]),
        ("plus", "升级版", "身故伤残100万，含猝死", Decimal("1.85"), 100 * WAN, [
            ("意外身故、伤残", 100 * WAN, "", 0, "伤残按《人身保险伤残评定标准》比例赔付"),
            ("猝死保险金", 30 * WAN, "", 0, "突发疾病24小时内身故"),
            ("意外医疗", 10 * WAN, "", 0, "不限社保，0免赔100%报销"),
            ("意外住院津贴", None, "200元/天", 0, "每次最长90天"),
        ]),
    ],
    "term-life": [
        ("sa50", "50万保额", "身故全残赔50万", Decimal("1.00"), 50 * WAN, [
            ("身故保险金", 50 * WAN, "", 0, "等待期后因疾病或意外身故"),
            ("全残保险金", 50 * WAN, "", 0, "与身故保险金只赔其一"),
        ]),
        ("sa100", "100万保额", "身故全残赔100万", Decimal("1.95"), 100 * WAN, [
            ("身故保险金", 100 * WAN, "", 0, "等待期后因疾病或意外身故"),
            ("全残保险金", 100 * WAN, "", 0, "与身故保险金只赔其一"),
        ]),
    ],
    "auto": [
        ("seat5", "5座版", "5座私家车每座20万", Decimal("1.00"), 20 * WAN, [
            ("驾乘意外身故、伤残（每座）", 20 * WAN, "", 0, "驾驶或乘坐被保险车辆时发生"),
            ("驾乘意外医疗（每座）", 2 * WAN, "", 100_00, "免赔额100元后按90%报销"),
            ("道路救援", None, "每年3次", 0, "拖车、搭电、换胎"),
        ]),
        ("seat7", "7座版", "7座车每座30万", Decimal("1.55"), 30 * WAN, [
            ("驾乘意外身故、伤残（每座）", 30 * WAN, "", 0, "驾驶或乘坐被保险车辆时发生"),
            ("驾乘意外医疗（每座）", 3 * WAN, "", 0, "0免赔，按100%报销"),
            ("道路救援", None, "每年5次", 0, "拖车、搭电、换胎"),
        ]),
    ],
}

DOCUMENTS = {
    "clauses": ("{name}保险条款", [
        "第一条 保险合同构成：本保险合同由保险条款、投保单、保险单或其他保险凭证以及批单组成。",
        "第二条 投保范围：凡{ages}、符合投保条件的人，可作为被保险人参加本保险。",
        "第三条 保险期间：本合同保险期间为{period}，以保险单载明的起讫时间为准。",
        "第四条 等待期：{waiting}。",
        "第五条 保险责任：在保险期间内，本公司按所选保障方案承担下列保险责任，具体保险金额以保险单载明为准。",
        "第六条 责任免除：投保人对被保险人的故意杀害、故意伤害；被保险人故意犯罪或抗拒依法采取的刑事强制措施；"
        "被保险人主动吸食或注射毒品；战争、军事冲突、暴乱或武装叛乱；核爆炸、核辐射或核污染导致的，本公司不承担给付保险金的责任。",
        "第七条 续保：{renewal}。",
        "第八条 犹豫期：自您签收本合同次日起，有15日的犹豫期。在此期间请您认真审视本合同，如您认为本合同与您的需求不相符，"
        "可以在此期间提出解除本合同，本公司将无息退还您所支付的全部保险费。",
    ]),
    "notice": ("{name}投保须知", [
        "1. 本产品由{insurer}承保，由微保平台（演示站点）代理销售。本页面内容均为演示数据，不构成真实的保险要约。",
        "2. 投保年龄：{ages}。保险期间：{period}。",
        "3. 请您如实填写投保信息并如实告知被保险人的健康状况，否则保险公司有权解除合同或不承担赔偿责任。",
        "4. 保费支付成功后，电子保单将在1个工作日内发送至您的账户，可在“我的保单”中查看。",
        "5. 如需理赔，请在出险后及时联系客服并保留相关单据。",
    ]),
    "health": ("{name}健康告知", [
        "被保险人是否存在以下情况？如有，请勿投保。",
        "1. 过去1年内有住院或手术建议，或过去2年内体检结果异常（如结节、息肉、指标异常）尚未复查。",
        "2. 过去5年内曾患有或正患有：恶性肿瘤、心脑血管疾病、肝硬化、慢性肾病、糖尿病及其并发症。",
        "3. 目前身体有残疾，或日常生活不能完全自理。",
        "以上告知内容中，“是否”请如实回答。如实告知是保险合同有效的前提。",
    ]),
}

FAQS = {
    "medical": [
        ("有社保和无社保价格为什么不同？", "有社保的被保险人先经社保报销，保险公司赔付的部分更少，所以保费更低；无社保的保费更高，报销比例也可能不同。"),
        ("1万免赔额是什么意思？", "一年内累计自费的医疗费用超过1万元的部分才能报销，重大疾病医疗通常0免赔。"),
        ("月缴和年缴有什么区别？", "月缴按月扣款，首月即可生效；一年合计通常略高于年缴。"),
    ],
    "critical-illness": [
        ("重疾险和医疗险有什么区别？", "医疗险报销看病花的钱，重疾险确诊符合条件的疾病后一次性给付保额，可以弥补收入损失。"),
        ("等待期内确诊怎么办？", "等待期内确诊的，保险公司通常退还已交保费，合同终止。"),
        ("保额选多少合适？", "一般建议覆盖3–5年的家庭年收入。"),
    ],
    "accident": [
        ("意外医疗不限社保是什么意思？", "社保目录外的自费药品和治疗费用，在责任范围内也能报销。"),
        ("猝死算意外吗？", "猝死通常不属于意外，本产品升级版单独保障猝死。"),
        ("投保后多久生效？", "意外险没有等待期，投保次日零时起生效。"),
    ],
    "term-life": [
        ("定期寿险适合谁？", "适合家庭经济支柱，在保障期内身故或全残，保险金可以帮助家人偿还房贷、维持生活。"),
        ("健康告知不符合还能投吗？", "不能。如实告知是理赔的前提，不符合请选择其他产品。"),
        ("保障到期后还能续吗？", "本产品为长期险，到期后合同终止，可以根据届时情况另行投保。"),
    ],
    "auto": [
        ("和交强险、商业车险有什么区别？", "本产品是人身意外险，保障车上人员的身故伤残和医疗，不保车辆本身的损失。"),
        ("换车了保单还有效吗？", "需在“我的保单”中变更车牌，变更后继续有效。"),
        ("乘客需要实名吗？", "不需要，按座位保障，发生事故时凭事故证明理赔。"),
    ],
}


def _rate_rows(plan, category, age_min, age_max, factor, plan_factor, by_gender, by_social):
    genders = ["M", "F"] if by_gender else [None]
    socials = [True, False] if by_social else [None]
    for (low, high), yuan in zip(BANDS, CURVES[category]):
        if high < age_min or low > age_max:
            continue
        for gender in genders:
            for social in socials:
                amount = Decimal(yuan) * 100 * factor * plan_factor
                if gender == "F":
                    amount *= FEMALE[category]
                if social is False:
                    amount *= WITHOUT_SOCIAL_SECURITY
                yield RateRow(plan=plan, age_min=max(low, age_min), age_max=min(high, age_max), gender=gender,
                              social_security=social, annual_premium_fen=round_fen(amount))


def _documents(category, name, insurer, ages, terms):
    waiting = (f"自合同生效日起{terms['waiting_period_days']}日内为等待期，等待期内发生的保险事故不承担保险责任"
               if terms["waiting_period_days"] else "本产品无等待期，保险责任自合同生效时开始")
    values = dict(name=name, insurer=insurer, ages=ages, period=terms["coverage_period"],
                  waiting=waiting, renewal=RENEWAL[category])
    for kind, (title, paragraphs) in DOCUMENTS.items():
        yield Document(kind=kind, title=title.format(**values),
                       body="\n\n".join(p.format(**values) for p in paragraphs))


def seed_demo_catalog(today: date) -> int:
    """Create what is missing of the demo catalog; existing rows are left as they are. Returns how many
    products were created (0 on a second run)."""
    insurers = {}
    for slug, name, short in INSURERS:
        insurer = db.session.scalar(select(Insurer).filter_by(slug=slug))
        if insurer is None:
            insurer = Insurer(slug=slug, name=name, short_name=short, description="虚构保险公司，仅用于演示")
            db.session.add(insurer)
        insurers[slug] = insurer
    created = 0
    for position, (cat_slug, cat_name, summary) in enumerate(CATEGORIES):
        category = db.session.scalar(select(Category).filter_by(slug=cat_slug))
        if category is None:
            category = Category(slug=cat_slug, name=cat_name, summary=summary, position=position)
            db.session.add(category)
        terms = CATEGORY_TERMS[cat_slug]
        for index, (slug, name, tagline, insurer_slug, age_min, age_max, factor, sales, featured,
                    highlights) in enumerate(PRODUCTS[cat_slug]):
            if db.session.scalar(select(Product.id).filter_by(slug=slug)):
                continue
            launched_on = today - timedelta(days=30 * (position * 7 + index) + 11)
            launched_at = datetime.combine(launched_on, time(), SHANGHAI).astimezone(UTC).replace(tzinfo=None)
            product = Product(
                slug=slug, name=name, tagline=tagline, insurer=insurers[insurer_slug], category=category,
                age_min=age_min, age_max=age_max, coverage_period=terms["coverage_period"],
                waiting_period_days=terms["waiting_period_days"], renewal=RENEWAL[cat_slug],
                highlights=highlights, priced_by_gender=terms["gender"],
                priced_by_social_security=terms["social"], payment_frequencies=terms["frequencies"],
                monthly_loading_permille=1040 if index % 2 else 1000, sales_count=sales,
                rank=100 - index * 10 + (20 if featured else 0), featured=featured,
                launched_on=launched_on, is_demo=True, state="approved", published_at=launched_at)
            table = RateTable(product=product, state="approved", note="上线时的费率表", created_at=launched_at,
                              effective_at=launched_at)
            for plan_position, (code, plan_name, description, plan_factor, sum_assured, items) in enumerate(
                    PLANS[cat_slug]):
                plan = Plan(code=code, name=plan_name, description=description, position=plan_position,
                            sum_assured_fen=sum_assured)
                plan.coverage_items = [
                    CoverageItem(position=i, name=item, limit_fen=limit, limit_text=text,
                                 deductible_fen=deductible, notes=notes)
                    for i, (item, limit, text, deductible, notes) in enumerate(items)]
                table.rows.extend(_rate_rows(plan, cat_slug, age_min, age_max, Decimal(factor), plan_factor,
                                             terms["gender"], terms["social"]))
                product.plans.append(plan)
            product.documents = list(_documents(cat_slug, name, insurers[insurer_slug].name,
                                                product.age_range_text, terms))
            product.faqs = [Faq(position=i, question=q, answer=a) for i, (q, a) in enumerate(FAQS[cat_slug])]
            table.price_from_fen = product.price_from_fen = table_prices(table.rows)
            db.session.add_all([product, table])
            created += 1
    return created


def copy_product(original, *, slug, name, with_table_at=None, **fields):
    """A new product made like ``original`` (plans with their coverage, documents, FAQ), with ``fields``
    changed; with ``with_table_at`` (a time), also a copy of the rate table in force then, approved from then."""
    columns = {c.key: getattr(original, c.key) for c in Product.__table__.columns
               if c.key not in ("id", "slug", "name", "prepared_by_id", "reviewed_by_id", "submitted_at",
                                "reviewed_at", "published_at", "withdrawn_at", "sales_count")}
    product = Product(**{**columns, "slug": slug, "name": name, "sales_count": 0, **fields})
    for plan in original.plans:
        copy = Plan(code=plan.code, name=plan.name, position=plan.position, sum_assured_fen=plan.sum_assured_fen,
                    description=plan.description)
        copy.coverage_items = [CoverageItem(position=i.position, name=i.name, limit_fen=i.limit_fen,
                                            limit_text=i.limit_text, deductible_fen=i.deductible_fen, notes=i.notes)
                               for i in plan.coverage_items]
        product.plans.append(copy)
    product.documents = [Document(kind=d.kind, title=d.title, body=d.body) for d in original.documents]
    product.faqs = [Faq(position=f.position, question=f.question, answer=f.answer) for f in original.faqs]
    db.session.add(product)
    db.session.flush()
    if with_table_at is not None:
        source = original.rate_table_at(with_table_at)
        _rates_like(product, original, source, state="approved", effective_at=with_table_at, created_at=with_table_at,
                    note="复制自" + original.name)
    return product


def _rates_like(product, original, source, change=lambda row: row.annual_premium_fen, **fields):
    """A rate table for ``product`` with the rows of ``source`` (a table of ``original``), each premium
    ``change(row)``."""
    codes = {plan.id: plan.code for plan in original.plans}
    plans = {plan.code: plan for plan in product.plans}
    table = RateTable(product_id=product.id, **fields)
    table.rows = [RateRow(plan_id=plans[codes[row.plan_id]].id, age_min=row.age_min, age_max=row.age_max,
                          gender=row.gender, social_security=row.social_security, annual_premium_fen=change(row))
                  for row in source.rows]
    table.price_from_fen = table_prices(table.rows)
    db.session.add(table)
    db.session.flush()
    return table


DRAFT_SLUG = "kids-medical-draft"
RAISED_SLUG = "anxin-million-medical"


def seed_back_office_demo(now):
    """What the demo back office has waiting: a product in draft and a rate table awaiting approval, both
    prepared by the demo operator (ops-demo), so the second demo operator can review them. Idempotent;
    nothing without the demo accounts (production)."""
    from app.admin.models import AdminStaff

    preparer = db.session.scalar(select(AdminStaff.id).where(AdminStaff.username == "ops-demo"))
    source = db.session.scalar(select(Product).where(Product.slug == RAISED_SLUG))
    if preparer is None or source is None:
        return 0
    created = 0
    if db.session.scalar(select(Product.id).where(Product.slug == DRAFT_SLUG)) is None:
        copy_product(source, slug=DRAFT_SLUG, name="少儿安心医疗", tagline="专为0–17岁孩子设计，住院医疗与门急诊都保",
                     age_min=0, age_max=17, featured=False, rank=0, state="draft", prepared_by_id=preparer,
                     launched_on=to_local(now).date())
        created += 1
    waiting = select(RateTable.id).where(RateTable.product_id == source.id, RateTable.state == "pending")
    if db.session.scalar(waiting) is None:
        _rates_like(source, source, source.rate_table_at(now), state="pending", prepared_by_id=preparer,
                    created_at=now, source_name="安心百万医疗-2027费率.csv", note="2027年费率调整：41岁及以上上调5%",
                    change=lambda row: row.annual_premium_fen if row.age_min < 41 else round_fen(
                        Decimal(row.annual_premium_fen) * Decimal("1.05")))
        created += 1
    return created
