"""The embedded engine's retrieval index: every product on sale cut into passages (its documents by section, each
plan's coverage, each FAQ, its facts), segmented with jieba (a user dictionary of product and insurer names and
insurance terms) and ranked with BM25 (bm25s), with character bigrams beside it for recall.

Built once per process (per app) and rebuilt lazily when the catalog's fingerprint changes (a product published,
withdrawn or reviewed again, or one that went on or off sale as time passed): ``current_index()`` asks the
database for the fingerprint (one small query) and rebuilds only when it differs. The periodic job (jobs.py)
warms it, so a question rarely waits for a build.
"""
import logging
import re
import threading
from dataclasses import dataclass

import bm25s
import jieba
import numpy
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from app.assistant.engines import Passage
from app.catalog.models import DOCUMENT_KINDS, Category, Insurer, Plan, Product
from app.core.clock import db_now
from app.core.money import format_yuan, format_yuan_short
from app.extensions import db

# Insurance words jieba must keep whole (besides the catalog's own names, added at each build).
TERMS = (
    "等待期", "犹豫期", "免赔额", "既往症", "保证续保", "续保", "社保", "医保", "无社保", "有社保", "健康告知",
    "如实告知", "投保须知", "保险条款", "责任免除", "保险责任", "保险期间", "保障期限", "保险金额", "保额", "保费",
    "年缴", "月缴", "退保", "全额退保", "理赔", "重大疾病", "重疾", "轻症", "中症", "百万医疗", "一般医疗",
    "质子重离子", "院外特药", "特药", "住院津贴", "门急诊", "特殊门诊", "门诊手术", "意外医疗", "猝死", "身故",
    "全残", "伤残", "豁免", "保费豁免", "投保年龄", "投保人", "被保险人", "受益人", "电子保单", "费率表",
    "道路救援", "驾乘意外", "交通意外", "长期医疗", "防癌", "定期寿险", "少儿", "保障方案", "基础版", "升级版",
)
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 么 是 在 和 与 及 或 有 我 你 他 她 它 们 这 那 哪 个 什么 怎么 怎样 如何 多少 请问 "
    "一下 可以 能 会 要 想 就 都 也 还 被 把 对 为 从 到 给 让 之 其 该 本 此 等 后 前 内 中 上 下 里 "
    "啥 嘛 哦 呗 请 帮 帮我 告诉 一个 这个 那个 如果 但是 因为 所以".split())
# What people ask → the words the material uses (added to the question, never replacing it).
SYNONYMS = {
    "不赔": "责任免除", "不保": "责任免除", "免责": "责任免除", "除外": "责任免除", "拒赔": "责任免除",
    "不报": "责任免除", "生效": "等待期", "开始保障": "等待期 生效", "多久开始": "等待期",
    "多少岁": "投保年龄", "能投": "投保年龄", "保到": "保障期限 保至", "月缴": "缴费方式", "年缴": "缴费方式", "观察期": "等待期", "冷静期": "犹豫期", "后悔": "犹豫期 退保",
    "退钱": "犹豫期 退保", "续": "续保", "停售": "续保", "涨价": "续保 费率", "多少钱": "保费",
    "价格": "保费", "贵": "保费", "便宜": "保费", "保多少": "保额 保障", "赔多少": "保额 保障",
    "报销": "医疗 报销比例", "几岁": "投保年龄", "多大": "投保年龄", "年龄": "投保年龄", "老人": "投保年龄",
    "孩子": "投保年龄 少儿", "小孩": "投保年龄 少儿", "保多久": "保障期限", "多长时间": "保障期限",
    "哪家": "承保公司", "谁承保": "承保公司", "保险公司": "承保公司", "病史": "健康告知", "生病": "健康告知",
    "结节": "健康告知 结节", "住过院": "健康告知 住院", "手术": "健康告知 手术", "体检": "健康告知 体检",
    "高血压": "健康告知 心脑血管", "糖尿病": "健康告知 糖尿病", "肿瘤": "健康告知 恶性肿瘤",
    "癌": "恶性肿瘤 癌症", "免赔": "免赔额", "自费": "免赔额 社保", "怎么买": "投保须知",
    "保单": "电子保单", "理赔": "理赔 出险", "月付": "月缴", "按月": "月缴", "分期": "月缴",
}
# Weight of the word ranking against the bigrams' when both find something.
WORD_WEIGHT, BIGRAM_WEIGHT = 0.7, 0.3
MIN_SCORE = 0.2  # a passage scoring less than this (of the best possible 1) is not evidence
_ARTICLE = re.compile(r"^(第[一二三四五六七八九十百零〇\d]+条)\s*([^：:\s]{0,20})[：:]?")
_ITEM = re.compile(r"^(\d{1,2})[.、．]\s*")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$")
_KIND = re.compile(r"(百万医疗|长期医疗|住院医疗|防癌医疗|医疗|定期重疾|重疾险?|防癌险?|意外险?|定期寿险|定寿|驾乘险|"
                   r"出行保)(·家庭版)?$")
_WORD = re.compile(r"[\w\u4e00-\u9fff]")
_BIGRAM_TEXT = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")

jieba.setLogLevel(logging.WARNING)
_tokenizer_lock = threading.Lock()
_tokenizer = None  # jieba's dictionary is loaded once per process; names are added as products appear


@dataclass
class Hit:
    passage: Passage
    score: float


class Index:
    """The passages of the products on sale at a fingerprint, ranked for a question."""

    def __init__(self, fingerprint, passages, products):
        self.fingerprint = fingerprint
        self.passages = passages
        self.by_id = {p.id: p for p in passages}
        self.products = products  # slug → ProductName, in the catalog's order
        self._words = _bm25([tokens(p.title + " " + p.text) for p in passages])
        self._bigrams = _bm25([bigrams(p.title + " " + p.text) for p in passages])

    def search(self, question, *, products=(), kinds=(), k=5) -> list[Hit]:
        """The ``k`` best passages for ``question``, within ``products`` (slugs) and ``kinds`` when given.
        Scores are in [0, 1]: each ranking is scaled by its best, then the two are merged."""
        if not self.passages:
            return []
        # A product's name matches all of its passages, the shortest best: the scope already says which.
        for slug in products:
            for alias in self.products[slug].aliases if slug in self.products else ():
                question = question.replace(alias, " ")
        expanded = question + " " + " ".join(v for k, v in SYNONYMS.items() if k in question)
        word = _scaled(self._words, tokens(expanded), len(self.passages))
        pair = _scaled(self._bigrams, bigrams(question), len(self.passages))
        merged = WORD_WEIGHT * word + BIGRAM_WEIGHT * pair if word.any() else pair * BIGRAM_WEIGHT
        mask = numpy.ones(len(self.passages), dtype=bool)
        if products:
            mask &= numpy.array([p.product in products for p in self.passages])
        if kinds:
            mask &= numpy.array([p.kind in kinds for p in self.passages])
        merged = numpy.where(mask, merged, 0.0)
        order = numpy.argsort(-merged, kind="stable")[:k]
        return [Hit(self.passages[i], float(merged[i])) for i in order if merged[i] > 0]

    def products_named(self, text) -> list[str]:
        """The slugs of products on sale that ``text`` names (by name or a short form of it), longest name
        first, each once."""
        found, taken = [], text
        for alias, slug in sorted(((a, s) for s, n in self.products.items() for a in n.aliases),
                                  key=lambda pair: -len(pair[0])):
            if alias in taken:
                taken = taken.replace(alias, "\0")
                if slug not in found:
                    found.append(slug)
        return found


@dataclass(frozen=True)
class ProductName:
    slug: str
    name: str
    insurer: str
    category: str
    aliases: tuple[str, ...]
    age_min: int
    age_max: int


def current_index() -> Index:
    """The index of the catalog as it is now: the one built for this fingerprint, or a new one."""
    holder = current_app.extensions.setdefault("assistant_index", _Holder())
    now = db_now()
    catalog = fingerprint(now)
    index = holder.index
    if index is not None and index.fingerprint == catalog:
        return index
    with holder.lock:
        if holder.index is None or holder.index.fingerprint != catalog:
            holder.index = build(now, catalog)
        return holder.index


class _Holder:
    def __init__(self):
        self.lock = threading.Lock()
        self.index = None


def fingerprint(now) -> tuple:
    """What changes whenever the material on sale may: how many products are on sale and the latest time any
    product was published, withdrawn or reviewed."""
    on_sale = db.session.execute(
        select(func.count(Product.id), func.max(Product.published_at)).where(Product.on_sale(now))).one()
    changed = db.session.execute(select(func.max(Product.withdrawn_at), func.max(Product.reviewed_at))).one()
    return (*on_sale, *changed)


def build(now, catalog_fingerprint=None) -> Index:
    """A new index of every product on sale at ``now``."""
    stmt = (select(Product).join(Product.insurer).join(Product.category)
            .options(contains_eager(Product.insurer), contains_eager(Product.category),
                     selectinload(Product.plans).selectinload(Plan.coverage_items),
                     selectinload(Product.documents), selectinload(Product.faqs))
            .where(Product.on_sale(now)).order_by(Category.position, Product.rank.desc(), Product.id))
    urls = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    with Session(db.engine) as session:
        catalog = session.scalars(stmt).unique().all()
        insurers = session.scalars(select(Insurer)).all()
        categories = session.scalars(select(Category)).all()
        names = {p.slug: ProductName(p.slug, p.name, p.insurer.short_name, p.category.name, aliases(p.name),
                                     p.age_min, p.age_max) for p in catalog}
        passages = [passage for product in catalog for passage in product_passages(product, urls)]
        words = ([n for name in names.values() for n in name.aliases]
                 + [w for i in insurers for w in (i.name, i.short_name)] + [c.name for c in categories]
                 + [item.name for p in catalog for plan in p.plans for item in plan.coverage_items])
    _teach(words)
    return Index(catalog_fingerprint if catalog_fingerprint is not None else fingerprint(now), passages, names)


def aliases(name) -> tuple[str, ...]:
    """How people write a product's name: whole, without its year or its bracketed note, without 险."""
    forms = {name, re.sub(r"[（(].*?[)）]", "", name)}
    forms |= {re.sub(r"\d{4}$", "", form) for form in forms}
    forms |= {form.removesuffix("险") for form in forms if len(form) > 4}
    forms |= {re.sub(_KIND, "", form) for form in forms}
    return tuple(sorted((f.strip() for f in forms if len(f.strip()) >= 4), key=len, reverse=True))


def product_passages(product, urls) -> list[Passage]:
    """Everything of ``product`` an answer may cite."""
    page = urls.build("catalog.product", {"slug": product.slug})
    return [*_facts(product, page), *_coverage(product, page), *_documents(product, urls), *_faqs(product, page),
            Passage(id=f"price:{product.slug}", kind="price", product=product.slug,
                    title=f"《{product.name}》费率表", url=page + "#calculator",
                    text=(f"{product.name}的保费（价格、多少钱）按费率表计算，"
                          f"{'、'.join(_factors(product))}不同保费不同，{format_yuan(product.price_from_fen)}起。"))]


def _factors(product):
    factors = ["年龄", "保障方案"]
    if product.priced_by_gender:
        factors.append("性别")
    if product.priced_by_social_security:
        factors.append("有无社保")
    if "monthly" in product.frequencies:
        factors.append("缴费方式")
    return factors


def _facts(product, page):
    name = product.name
    waiting = (f"{name}的等待期为{product.waiting_period_days}天，等待期内发生的保险事故不承担保险责任。"
               if product.waiting_period_days else f"{name}没有等待期，保险责任自合同生效时开始。")
    facts = [
        ("insurer", "承保公司", f"{name}由{product.insurer.name}（{product.insurer.short_name}）承保，"
                               f"属于{product.category.name}类产品：{product.tagline}。"),
        ("ages", "投保年龄", f"{name}的投保年龄（被保险人）为{product.age_range_text}。"),
        ("period", "保障期限", f"{name}的保障期限（保险期间）为{product.coverage_period}。"),
        ("waiting", "等待期", waiting),
        ("cooling-off", "犹豫期", f"{name}的犹豫期为{product.cooling_off_days}天，犹豫期内退保可全额退还保费。"),
        ("renewal", "续保", f"{name}的续保规则：{product.renewal}。"),
        ("payment", "缴费方式", f"{name}的缴费方式：{'、'.join(product.frequency_labels)}。"),
    ]
    if product.highlight_list:
        facts.append(("highlights", "产品亮点", f"{name}的亮点：{'；'.join(product.highlight_list)}。"))
    return [Passage(id=f"fact:{product.slug}:{key}", kind="product", product=product.slug,
                    title=f"《{name}》投保规则 · {label}", url=page + "#facts-title", text=text)
            for key, label, text in facts]


def _coverage(product, page):
    passages = []
    for plan in product.plans:
        lines = []
        for item in plan.coverage_items:
            limit = item.limit_text or (format_yuan_short(item.limit_fen) if item.limit_fen else "—")
            deductible = format_yuan_short(item.deductible_fen) if item.deductible_fen else "0"
            line = f"{item.name}：保额/限额{limit}，免赔额{deductible}"
            lines.append(line + (f"，{item.notes}" if item.notes else ""))
        passages.append(Passage(
            id=f"coverage:{product.slug}:{plan.code}", kind="coverage", product=product.slug,
            title=f"《{product.name}》{plan.name}保障责任", url=f"{page}#plan-{plan.code}",
            text=f"{product.name}{plan.name}（{plan.description}）的保障：" + "；".join(lines) + "。"))
    return passages


def _documents(product, urls):
    passages = []
    for doc in product.documents:
        url = urls.build("catalog.document", {"slug": product.slug, "kind": doc.kind})
        for n, (section, text) in enumerate(sections(doc.body), start=1):
            title = f"《{doc.title}》" + (f"{section}" if section else "")
            passages.append(Passage(id=f"doc:{product.slug}:{doc.kind}:{n}", kind="document", product=product.slug,
                                    title=title, url=url,
                                    text=f"{product.name}{DOCUMENT_KINDS.get(doc.kind, '')}：{text}"))
    return passages


def sections(body) -> list[tuple[str, str]]:
    """A document's Markdown cut into sections: a heading starts one (its text is the section's name), so does
    an article (第X条); otherwise each paragraph is one (a numbered one named by its number)."""
    result, heading, under = [], "", []

    def close():
        if under:
            result.append((heading, "\n".join(under)))
            under.clear()

    for paragraph in (p.strip() for p in body.replace("\r\n", "\n").split("\n\n")):
        if not paragraph:
            continue
        first, _, rest = paragraph.partition("\n")
        title = _HEADING.match(first)
        if title:
            close()
            heading = title.group(1).strip()
            if rest.strip():
                under.append(rest.strip())
            continue
        article = _ARTICLE.match(paragraph)
        if article:
            close()
            result.append((f"{article.group(1)} {article.group(2)}".strip(), paragraph))
            continue
        if heading:
            under.append(paragraph)
            continue
        item = _ITEM.match(paragraph)
        result.append((f"第{item.group(1)}项" if item else "", paragraph))
    close()
    return result


def _faqs(product, page):
    return [Passage(id=f"faq:{product.slug}:{n}", kind="faq", product=product.slug,
                    title=f"《{product.name}》常见问题：{faq.question}", url=page + "#faq-title",
                    text=f"{faq.question}{faq.answer}")
            for n, faq in enumerate(product.faqs, start=1)]


def tokens(text) -> list[str]:
    """Words for BM25: jieba's search mode (whole words and the words inside them), without stop words and
    punctuation, lower-cased."""
    return [w.lower() for w in _jieba().lcut_for_search(text)
            if w.strip() and _WORD.search(w) and w not in STOPWORDS]


def bigrams(text) -> list[str]:
    """Overlapping pairs of characters of each run of letters and digits (single characters of a run of one)."""
    pairs = []
    for run in _BIGRAM_TEXT.split(text.lower()):
        if len(run) == 1:
            pairs.append(run)
        pairs.extend(run[i:i + 2] for i in range(len(run) - 1))
    return pairs


def _jieba():
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            tokenizer = jieba.Tokenizer()
            for term in TERMS:
                tokenizer.add_word(term, freq=20000)
            _tokenizer = tokenizer
        return _tokenizer


def _teach(words):
    tokenizer = _jieba()
    with _tokenizer_lock:
        for word in {w for w in words if len(w) >= 2}:
            if tokenizer.FREQ.get(word, 0) < 20000:
                tokenizer.add_word(word, freq=20000)


def _bm25(corpus):
    model = bm25s.BM25()
    # bm25s wants at least one token a document; an empty passage gets one that no question has.
    model.index([doc or ["\0"] for doc in corpus] or [["\0"]], show_progress=False)
    return model


def _scaled(model, query, size):
    known = [t for t in dict.fromkeys(query) if t in model.vocab_dict]
    if not known:
        return numpy.zeros(size)
    scores = model.get_scores(known)[:size]
    top = scores.max()
    return scores / top if top > 0 else numpy.zeros(size)


def search(question, product=None, *, k=5) -> list[Passage]:
    """The passages an answer to ``question`` may cite (the model's too): within the products it names, else
    ``product`` (a Product or its slug); none for a question the embedded engine refuses."""
    from app.assistant.embedded import in_scope

    index = current_index()
    scope = in_scope(question, index, product)
    if scope is None:
        return []
    return [hit.passage for hit in index.search(question, products=scope, k=k) if hit.score >= MIN_SCORE]
