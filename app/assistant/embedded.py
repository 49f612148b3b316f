"""The embedded engine (the default: no server, nothing downloaded): answers composed from the retrieval index's
best passages and from the calculator, each statement followed by its citation ([1] is the answer's first
citation). It only ever repeats what a passage says or what the calculator computes; a question outside the
platform's products gets a polite refusal that points to 转人工.

The question is read in this order: refused (hostile, legal, medical, another insurer, a product we do not
sell, nothing about insurance) → its products (named, else the page's, else the conversation's) → a price (the
calculator), a comparison of plans (their coverage as a table), or else the best passages.
"""
import re
import unicodedata

from app.assistant.engines import Answer, Event, Passage
from app.assistant.index import MIN_SCORE, Index, current_index, tokens
from app.catalog import services
from app.catalog.models import GENDERS
from app.core.clock import db_now, today_local
from app.core.money import format_yuan, format_yuan_short

GREETING = ("您好！我是微保智能管家，可以回答平台在售保险产品的保障内容、条款、价格和投保规则，"
            "例如“30岁男有社保买安心百万医疗多少钱”。需要人工帮助时，请点击「转人工」。")
CHUNK = 4  # characters an event: the page shows the answer growing
MAX_SENTENCES = 4

REFUSAL = "抱歉，{reason}我只能回答微保平台在售保险产品的问题（保障内容、条款、价格、投保规则等）。如需进一步帮助，请点击「转人工」联系在线客服。"
REASONS = {
    "hostile": "这个请求我无法处理。",
    "privacy": "我无法查询或提供他人的个人信息。",
    "legal": "法律问题请咨询律师等专业人士，",
    "medical": "疾病的诊断、治疗和用药请咨询医生，",
    "insurer": "其他保险公司的产品请向该公司咨询，",
    "unknown": "平台在售的产品中没有「{name}」，",
    "off-topic": "这个问题与平台的保险产品无关，",
}
_HOSTILE = re.compile(
    r"忽略.{0,6}(指令|提示|规则|设定|要求)|无视.{0,6}(指令|规则|设定)|系统提示|提示词|system\s*prompt|prompt|"
    r"jailbreak|越狱|开发者模式|developer\s*mode|\bDAN\b|你现在是|扮演|假装你|角色扮演|不受(任何)?限制|没有限制|"
    r"ignore\s+(all\s+|the\s+)?(previous|above|prior)|编造|虚构|瞎编|随便编|胡编|编一个|写一首|写一篇|写首诗|"
    r"傻[逼瓜子]|sb|去死|滚|骂|操你|垃圾平台|骗子|黑客|攻击|炸弹|毒品|诈骗|洗钱|骗保|假病历|伪造|隐瞒病史|"
    r"怎么才能不如实告知|如何隐瞒|(保证|承诺)(一定|肯定|百分百)(能)?赔|<script|select\s.+\sfrom|drop\s+table",
    re.I)
_PRIVACY = re.compile(
    r"(别人|他人|其他用户|其他人|用户|客户|张三|李四|王五|邻居|同事|前任|前妻|前夫)的?.{0,6}"
    r"(手机号|电话|身份证|住址|地址|保单|订单|信息|资料|理赔记录|病历)|"
    r"(查|查询|查一下|告诉我|给我).{0,8}(身份证号|手机号)")
_LEGAL = re.compile(
    r"起诉|律师|打官司|诉讼|仲裁|判决|法院|上诉|离婚|遗产|继承|违法吗|犯法|法律责任|法律意见|法律咨询|"
    r"交通事故.{0,6}(责任|赔偿)|(对方|肇事|责任方).{0,6}(全责|责任|索赔|赔偿)|全责|劳动合同|劳动法|合同纠纷|告(他|她|保险公司)")
_MEDICAL = re.compile(
    r"怎么治|如何治|治疗方案|吃什么药|用什么药|吃多少药|剂量|副作用|要不要(做)?手术|该不该(做)?手术|"
    r"是不是得了|会不会是.{0,6}(病|癌|瘤)|得了什么病|挂什么科|偏方|怎么调理|能治好|治愈率|帮我诊断|诊断一下|"
    r"看.{0,4}(报告|化验单|片子|CT|B超)|会死吗|怎么缓解|疼怎么办|发烧怎么办|怎么退烧|怎么降(血压|血糖)")
OTHER_INSURERS = (  # as people write them; none a part of an everyday word (not 人保: 个人保障, not 元保: 100元保额)
    "平安保险", "平安人寿", "平安健康", "平安好医生", "平安e生保", "平安", "中国人寿", "国寿", "太平洋保险", "太平洋人寿", "中国太保",
    "新华保险", "新华人寿", "泰康", "中国人保", "人保财险", "人保健康", "人保寿险", "友邦", "众安", "水滴", "轻松筹",
    "支付宝", "蚂蚁保", "好医保", "相互宝", "百年人寿", "华夏保险", "阳光保险", "大家保险", "富德生命", "中邮人寿",
    "招商信诺", "中英人寿", "工银安盛", "横琴人寿", "复星", "君龙人寿", "弘康人寿", "信泰人寿", "瑞华健康", "昆仑健康",
    "和谐健康", "太平人寿", "中国太平", "国华人寿", "前海人寿", "天安财险", "大地保险", "安盛", "保诚", "安联",
    "京东安联", "慧择", "深蓝保", "小雨伞", "e生保", "尊享e生",
)
# Anything a question about our material would mention (besides the catalog's own names).
_INSURANCE = re.compile(
    r"保险|投保|承保|理赔|赔|保费|保额|保障|保单|免赔|等待期|犹豫期|续保|条款|告知|社保|医保|方案|产品|退保|"
    r"缴|价格|多少钱|费用|费率|报销|住院|医疗|重疾|意外|寿险|身故|伤残|猝死|质子|特药|豁免|生效|到期|年龄|"
    r"周岁|险|保[多什到几]|能保|可以保|保不保|责任|除外|免责|结节|既往症|体检|健康|津贴|救援|驾乘|座")
_PRICE = re.compile(r"多少钱|价格|价钱|保费(?!豁免)|费用是|贵不贵|多贵|便宜|报价|多钱|几块|几百|一年交|每年交|"
                    r"每月交|月缴多少|年缴多少|要交|交多少|花多少|费率|保费表|不同年龄")
_NOT_PREMIUM = re.compile(r"为什么|区别|什么意思|怎么算的|为何|退保|退多少|津贴|赔多少|报销多少|赔付多少|给付多少")
_COMPARE = re.compile(r"对比|比较|区别|差别|不同|哪个好|哪个划算|有什么差|差在哪")
_AGE = re.compile(r"(\d{1,3})\s*(?:周岁|岁)")
_CN_AGE = re.compile(r"([一二两三四五六七八九十]{1,3})\s*(?:周岁|岁)")
_GENDER = {"M": re.compile(r"男|先生|儿子|爸|父亲|老公|丈夫|男孩|哥"),
           "F": re.compile(r"女|太太|妈|母亲|老婆|妻子|姐|妹")}
_NO_SOCIAL = re.compile(r"(没有|没|无|不带|不含|未参加|未缴)\s*(社保|医保)")
_SOCIAL = re.compile(r"(有|带|含|参加了?)\s*(社保|医保)")
_MONTHLY = re.compile(r"月缴|按月|每月|月付|每个月|一个月")
# A name of a product someone asks about: words before a kind of insurance.
_NAMED = re.compile(r"([\u4e00-\u9fffA-Za-z0-9·]{2,14}?)(百万医疗|医疗险|医疗保险|重疾险|意外险|定期寿险|寿险|"
                    r"防癌险|驾乘险|长期医疗)")
# What surrounds a kind of insurance in a question without being a name.
_GENERIC = re.compile(
    r"请问|我想|我要|想要|想买|想问|打算|准备|给我|给|帮我|推荐|一份|一款|这款|那款|哪款|哪个|哪些|什么样的?|什么|"
    r"有没有|有哪些|你们|平台|微保|的|买|投保|购买|适合|好的|便宜的?|贵的?|少儿|儿童|孩子|小孩|宝宝|老人|父母|爸妈|"
    r"家庭|全家|长期|短期|一年期|普通|一般|综合|个人|自己|我|和|与|跟|还是|或者|对比|比较|这个|那个|款|种|份|个|"
    r"是|吗|呢|有|在|上|能|可以|要|了|都|还|也|岁|男|女|社保|医保|百万医疗|长期医疗|医疗|重疾|意外|寿险|定期|防癌|"
    r"驾乘|保险|险|保障|保额|保费|方案|选择|选|哪种|哪类|种类|类型|类|型|靠谱|划算|实惠|性价比高?|热门|热销|最好|"
    r"最便宜|高端|中端|基础|升级|新|老|大|小|好|贵|多少|几|万|元|每月|每年|一年|问|想|请|说|[，,。.？?！!、\s]|\d+")
_GREETING = re.compile(r"(你好|您好|hi|hello|嗨|在吗|在不在)[呀啊吗呢]?[!！。.?？~～]*", re.I)
_WHICH = re.compile(r"(买|投|选)(什么|哪些|哪款|哪个)|推荐|有哪些|有什么.{0,4}(险|保险|产品)|能买|可以买|还能买")
# Words of a question → the catalog's categories (their names on the site).
_CATEGORY_WORDS = {"医疗": "百万医疗", "重疾": "重疾", "癌": "重疾", "意外": "意外", "寿险": "定期寿险", "定寿": "定期寿险",
                   "车": "车险", "驾": "车险"}
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


class EmbeddedEngine:
    name = "embedded"

    def stream(self, question, *, product=None, history=()):
        """The answer in chunks of a few characters, then the whole Answer."""
        answer = self.answer(question, product=product, history=history)
        for start in range(0, len(answer.text), CHUNK):
            yield Event("text", answer.text[start:start + CHUNK])
        yield Event("done", answer)

    def answer(self, question, *, product=None, history=()) -> Answer:
        text = unicodedata.normalize("NFKC", question or "").strip()
        index = current_index()
        reason, name = _refusal(text, index)
        if reason:
            return refusal(reason, name)
        if _GREETING.fullmatch(text):
            return Answer(text=GREETING)
        scope = in_scope(text, index, product, history)
        if scope is None:
            return refusal("off-topic")
        if not scope and _WHICH.search(text) and (age := _age(text)) is not None:
            return by_age_limit(text, age, index)
        if scope and _PRICE.search(text) and not _NOT_PREMIUM.search(text):
            priced = price_answer(text, scope[0], index)
            if priced is not None:
                return priced
        if scope and _COMPARE.search(text) and len(scope) == 1 and _mentions_plans(text, index, scope[0]):
            return comparison(scope[0], index)
        return compose(text, scope, index)


def in_scope(text, index: Index, product=None, history=()):
    """The products ``text`` is about (named, else the page's, else the conversation's; [] for the whole
    catalog), or None when it is not for this engine at all."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if _refusal(text, index)[0]:
        return None
    scope = index.products_named(text)
    if not scope:
        scope = [s for s in (_slug(product), *_history_products(history, index)) if s in index.products][:1]
    if not scope and not _INSURANCE.search(text):
        return None
    return scope


def refusal(reason, name="") -> Answer:
    return Answer(text=REFUSAL.format(reason=REASONS[reason].format(name=name)), refused=True)


def _refusal(text, index: Index):
    """Why ``text`` is not for this engine (a key of REASONS, and the unknown name), or (None, "")."""
    if _HOSTILE.search(text):
        return "hostile", ""
    if _PRIVACY.search(text):
        return "privacy", ""
    if _LEGAL.search(text):
        return "legal", ""
    if _MEDICAL.search(text):
        return "medical", ""
    ours = {n.insurer for n in index.products.values()}
    named = index.products_named(text)
    stripped = text
    for slug in named:
        for alias in index.products[slug].aliases:
            stripped = stripped.replace(alias, " ")
    if any(insurer in stripped for insurer in OTHER_INSURERS if insurer not in ours):
        return "insurer", ""
    for match in _NAMED.finditer(stripped):
        # The name is what stands right before the kind of insurance, after the last everyday word.
        name = ([""] + [part for part in _GENERIC.split(match.group(1)) if part])[-1]
        if len(re.findall(r"[\u4e00-\u9fffA-Za-z]", name)) >= 2 and not any(
                name in alias for n in index.products.values() for alias in n.aliases):
            return "unknown", name + match.group(2)
    return None, ""


def _slug(product):
    return getattr(product, "slug", product) or ""


def _history_products(history, index):
    """Products the user's earlier questions named, the latest first (``history``: (role, text) pairs, or texts)."""
    found = []
    for item in reversed(list(history or ())):
        role, text = item if isinstance(item, (tuple, list)) and len(item) == 2 else ("user", item)
        if role == "user":
            found.extend(index.products_named(str(text or "")))
    return found


def compose(text, scope, index: Index) -> Answer:
    """2–4 sentences from the best passages, each followed by its citation."""
    hits = index.search(text, products=scope, k=MAX_SENTENCES)
    hits = [h for h in hits if h.score >= MIN_SCORE and h.score >= hits[0].score * 0.5] if hits else []
    if not hits:
        if not scope:
            return refusal("off-topic")
        name = index.products[scope[0]].name
        page = index.by_id.get(f"fact:{scope[0]}:insurer")
        return Answer(text=(f"在{name}的条款、须知和常见问题中没有找到与这个问题直接相关的内容。"
                            "您可以换个说法，或点击「转人工」咨询在线客服。"),
                      citations=[page] if page else [])
    if not scope:  # one product's material, not the same FAQ of several
        hits = [h for h in hits if h.passage.product == hits[0].passage.product]
    asked = text
    for slug in scope:
        for alias in index.products[slug].aliases:
            asked = asked.replace(alias, " ")
    query = set(tokens(asked))
    sentences, seen, citations = [], set(), []
    for hit in hits:
        sentence = _best_sentence(hit.passage, query)
        if sentence in seen:
            continue
        seen.add(sentence)
        citations.append(hit.passage)
        sentences.append(f"{sentence}[{len(citations)}]")
    lead = "" if scope else f"以在售的{index.products[hits[0].passage.product].name}为例：\n\n"
    return Answer(text=lead + "\n\n".join(sentences), citations=citations)


def _best_sentence(passage: Passage, query) -> str:
    """What of the passage answers the question: of a plan's coverage, the items that share words with it (the
    first two when none does); of anything else, the whole passage when short, else its best sentence."""
    text = passage.text.strip()
    if passage.kind == "coverage":
        lead, _, rest = text.partition("的保障：")
        items = [i for i in rest.rstrip("。").split("；") if i]
        shared = [len(query & set(tokens(i.partition("：")[0]))) for i in items]
        best = max(shared, default=0)
        chosen = [i for i, n in zip(items, shared) if best and n == best][:2] or items[:2]
        return _ended(f"{lead}的保障包括{'；'.join(chosen)}")
    if len(text) <= 200:
        return _ended(text)
    pieces = [p for p in re.split(r"(?<=[。！？])", text) if p.strip()]
    best = max(pieces, key=lambda p: len(query & set(tokens(p))))
    return _ended(best.strip())


def _ended(sentence):
    sentence = sentence.rstrip("；;，, ")
    return sentence if sentence.endswith(("。", "！", "？", "）")) else sentence + "。"


def _mentions_plans(text, index, slug):
    product = services.get_product(slug)
    return product is not None and (re.search(r"方案|版|保额|计划", text) or sum(
        plan.name in text for plan in product.plans) >= 2)


def comparison(slug, index: Index) -> Answer:
    """The product's plans side by side: each coverage item's limit (and deductible) under each plan."""
    product = services.get_product(slug)
    citations = [index.by_id[f"coverage:{slug}:{plan.code}"] for plan in product.plans
                 if f"coverage:{slug}:{plan.code}" in index.by_id]
    items = list(dict.fromkeys(item.name for plan in product.plans for item in plan.coverage_items))
    header = "| 保障责任 | " + " | ".join(f"{plan.name}[{n}]" for n, plan in enumerate(product.plans, 1)) + " |"
    lines = [header, "|---" * (len(product.plans) + 1) + "|"]
    for name in items:
        cells = []
        for plan in product.plans:
            item = next((i for i in plan.coverage_items if i.name == name), None)
            cells.append(_limit(item) if item else "不含")
        lines.append(f"| {_cell(name)} | " + " | ".join(_cell(c) for c in cells) + " |")
    intro = (f"{product.name}共有{len(product.plans)}个保障方案："
             + "；".join(f"{plan.name}（{plan.description}）[{n}]" for n, plan in enumerate(product.plans, 1)) + "。")
    return Answer(text=intro + "\n\n" + "\n".join(lines), citations=citations)


def _limit(item):
    limit = item.limit_text or (format_yuan_short(item.limit_fen) if item.limit_fen else "—")
    return limit + (f"（免赔额{format_yuan_short(item.deductible_fen)}）" if item.deductible_fen else "")


def _cell(text):
    return str(text).replace("|", "｜").replace("\n", " ")


def by_age_limit(text, age, index: Index) -> Answer:
    """The products on sale (of the kind the question names) that take someone of ``age``, each cited to its
    投保年龄."""
    kinds = {category for word, category in _CATEGORY_WORDS.items() if word in text}
    fits = [n for n in index.products.values()
            if n.age_min <= age <= n.age_max and (not kinds or n.category in kinds)][:4]
    citations = [index.by_id[f"fact:{n.slug}:ages"] for n in fits if f"fact:{n.slug}:ages" in index.by_id]
    if not citations:
        return Answer(text=f"平台在售的产品中没有可以为{age}周岁的被保险人投保的{'、'.join(sorted(kinds)) or '产品'}。"
                           "如需帮助，请点击「转人工」联系在线客服。")
    lines = [f"在售产品中，{age}周岁可以投保的有："]
    lines += [f"- {passage.text}[{n}]" for n, passage in enumerate(citations, 1)]
    return Answer(text="\n".join(lines), citations=citations)


def _age(text):
    if match := _AGE.search(text):
        return int(match.group(1))
    if match := _CN_AGE.search(text):
        return _chinese_number(match.group(1))
    return None


def parse_price(text, product):
    """What a price question says: age, gender, 社保, plan code, frequency (None where it says nothing)."""
    age = _age(text)
    genders = [g for g, pattern in _GENDER.items() if pattern.search(text)]
    gender = genders[0] if len(genders) == 1 else None
    social = False if _NO_SOCIAL.search(text) else True if _SOCIAL.search(text) else None
    plan = next((p.code for p in product.plans if p.name in text or p.code in text.lower()), None)
    if plan is None:
        plan = next((p.code for p in product.plans if p.name[:2] in text and len(p.name) > 2), None)
    if plan is None:
        plan = next((p.code for p in product.plans if format_yuan_short(p.sum_assured_fen) in text), None)
    frequency = "monthly" if _MONTHLY.search(text) else "annual"
    return age, gender, social, plan, frequency


def _chinese_number(text):
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0)
    return _CN_DIGITS.get(text)


def price_answer(text, slug, index: Index):
    """The calculator's premium for what the question says, with its why-this-price as a table; a table of
    premiums by age when the age is not said; None when the product cannot be priced."""
    product = services.get_product(slug)
    table = product.rate_table_at(db_now()) if product else None
    cite = index.by_id.get(f"price:{slug}")
    if product is None or table is None or cite is None:
        return None
    age, gender, social, plan, frequency = parse_price(text, product)
    if age is None:
        return by_age(product, table, plan or product.plans[0].code, gender, social, cite)
    genders = [gender] if gender or not product.priced_by_gender else list(GENDERS)
    socials = [social] if social is not None or not product.priced_by_social_security else [True, False]
    plans = [plan] if plan else [p.code for p in product.plans]
    try:
        quotes = [services.quote_premium(product, plan_code=p, age=age, today=today_local(), table=table,
                                         gender=g if product.priced_by_gender else None,
                                         social_security=s if product.priced_by_social_security else None,
                                         frequency=frequency)
                  for p in plans for g in genders for s in socials]
    except services.QuoteError as error:
        facts = [index.by_id[i] for i in (f"fact:{slug}:ages", f"fact:{slug}:payment") if i in index.by_id]
        return Answer(text=f"{error.message}。[1]", citations=facts[:1] if error.field == "age" else facts[1:2])
    main = quotes[0]
    if len(genders) * len(socials) == 1:
        lines = [f"按{product.name}的费率表测算：{_who(main)}，选{main.plan.name}、{main.frequency_label}，"
                 f"{_premium(main)}。[1]", "", "| 计算步骤 | 说明 |", "|---|---|"]
        lines += [f"| {_cell(step)} | {_cell(detail)} |" for step, detail in main.steps]
        others = quotes[1:]
        if others:
            lines += ["", "其他方案：" + "；".join(f"{q.plan.name}{_premium(q)}" for q in others) + "。[1]"]
        return Answer(text="\n".join(lines), citations=[cite])
    missing = "、".join(w for w, m in (("性别", len(genders) > 1), ("是否有社保", len(socials) > 1)) if m)
    lines = [f"按{product.name}的费率表测算（{age}周岁、{main.frequency_label}），告诉我{missing}可以得到一个价格和它的计算过程：[1]",
             "", "| 方案 | 性别 | 社保 | 保费 |", "|---|---|---|---|"]
    for q in quotes:
        lines.append(f"| {q.plan.name} | {GENDERS.get(q.row.gender, '不区分')} | "
                     f"{'—' if q.row.social_security is None else '有社保' if q.row.social_security else '无社保'} | "
                     f"{_premium(q)} |")
    return Answer(text="\n".join(lines), citations=[cite])


def _who(quote):
    parts = [f"{quote.age}周岁"]
    if quote.row.gender:
        parts.append(GENDERS[quote.row.gender])
    if quote.row.social_security is not None:
        parts.append("有社保" if quote.row.social_security else "无社保")
    return "、".join(parts)


def _premium(quote):
    if quote.frequency == "monthly":
        return f"每月{format_yuan(quote.per_period_fen)}（一年合计{format_yuan(quote.annual_total_fen)}）"
    return f"每年{format_yuan(quote.per_period_fen)}"


def by_age(product, table, plan_code, gender, social, cite) -> Answer:
    """The plan's annual premiums by age band, from the rate table in force."""
    plan = next(p for p in product.plans if p.code == plan_code)
    rows = [r for r in table.rows_of(plan)
            if (gender is None or r.gender in (None, gender))
            and (social is None or r.social_security in (None, social))]
    columns = list(dict.fromkeys((r.gender, r.social_security) for r in rows))
    bands = list(dict.fromkeys((r.age_min, r.age_max) for r in rows))
    premium = {(r.age_min, r.age_max, r.gender, r.social_security): r.annual_premium_fen for r in rows}

    def heading(column):
        words = [GENDERS[column[0]]] if column[0] else []
        if column[1] is not None:
            words.append("有社保" if column[1] else "无社保")
        return "·".join(words) or "年缴保费"

    lines = [f"{product.name}的保费与被保险人的年龄有关，告诉我年龄（例如“30岁男，有社保”）可以算出具体价格。"
             f"{plan.name}各年龄的年缴保费如下：[1]", "",
             "| 年龄 | " + " | ".join(heading(c) for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for low, high in bands:
        cells = [format_yuan(premium[(low, high, *c)]) if (low, high, *c) in premium else "—" for c in columns]
        lines.append(f"| {low}–{high}周岁 | " + " | ".join(cells) + " |")
    return Answer(text="\n".join(lines), citations=[cite])


def price_curve(product, plan, gender=None, social=None) -> list[tuple[int, int]]:
    """(age, annual premium in fen) for every age the product accepts, from the calculator and the rate table in
    force: what charts.curve draws. ``plan`` is a Plan or its code; an empty list when it cannot be priced."""
    code = getattr(plan, "code", plan)
    table = product.rate_table_at(db_now())
    points = []
    for age in range(product.age_min, product.age_max + 1):
        try:
            quote = services.quote_premium(
                product, plan_code=code, age=age, today=today_local(), table=table,
                gender=(gender or "M") if product.priced_by_gender else None,
                social_security=(True if social is None else social) if product.priced_by_social_security else None)
        except (services.QuoteError, LookupError):
            return []
        points.append((age, quote.annual_total_fen))
    return points
