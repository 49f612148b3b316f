"""Review of what goes into 智能管家 and what comes out of it (seed §4.4.5–4.4.6; 《生成式人工智能服务管理暂行办法》
第14条).

- ``normalise``: the form text is matched in, with the way back to the text as typed (for masking): NFKC (full
  width → half width), traditional → simplified (OpenCC t2s), lower case, every character that is not a letter or
  a digit dropped (spaces, punctuation, zero-width characters, symbols put between the characters of a word),
  look-alike letters and digits read as the letters they stand for, and the usual homophones and pinyin of banned
  words read as the words (堵博 → 赌博, 代开发漂 → 代开发票).
- The term library (ReviewTerm rows, versioned by ReviewLibraryVersion) in an Aho-Corasick automaton, built once
  per library version and rebuilt when another process has changed the library; allow-list entries win over the
  terms they overlap (吸食或注射毒品 in an exclusion clause is not 毒品).
- ``check_input``: before any engine sees a question: a user restricted for repeated attempts, 乱码, prompt
  injection, requests for someone else's personal data, and the library's terms by their action.
- ``OutputWatcher``: an answer checked while it streams, in overlapping windows, so a term split between chunks is
  caught; text is released only once no term can still be completing in it, masked where the library says so.

Every verdict other than ok is recorded as a ReviewEvent (its category and the library version, never the user's
text), added to the session: the caller commits it with its own rows (an answer's, once it is stored:
``OutputWatcher.record``). A user who keeps trying to get prohibited
output is warned, then restricted for a while (UserRestriction; ``restriction_of``).
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import ahocorasick
import opencc
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.admin import audit
from app.assistant.models import TERM_ACTIONS, ReviewEvent, ReviewLibraryVersion, ReviewTerm, UserRestriction
from app.core.clock import format_local
from app.core.domain import DomainError
from app.extensions import db

CATEGORIES = ("违法违规", "色情", "暴力", "歧视", "虚假宣传", "保险违规用语")
# The categories of the checks that are not terms (ReviewEvent.category).
GIBBERISH, INJECTION, OTHERS_DATA, RESTRICTED = "乱码", "提示词注入", "他人个人信息", "限制使用"
SEVERITY = {"block": 3, "hold": 2, "mask": 1}  # of several terms hit, the strictest decides

# A user with WARN_AT attempts (inputs refused or blocked, outputs stopped; 乱码 aside) within WINDOW is warned; with
# RESTRICT_AT, restricted for RESTRICTED_FOR.
WINDOW = timedelta(hours=24)
WARN_AT = 3
RESTRICT_AT = 5
RESTRICTED_FOR = timedelta(hours=24)

MESSAGES = {
    GIBBERISH: "没有看懂你的问题。请用一句话描述你想了解的保险问题，例如“安心百万医疗的等待期是多久？”",
    INJECTION: "智能管家只回答本平台保险产品的问题，不能更改自己的规则或扮演其他角色。请直接提出你的保险问题。",
    OTHERS_DATA: "智能管家不能查询或提供他人的身份证号、手机号、保单等个人信息。本人的保单请登录后在“我的保单”查看；"
                 "如需帮助，可以转人工客服。",
    "blocked": "你的问题含有不适宜的内容，智能管家无法回答。如有保险方面的问题，欢迎换个说法再问。",
    "held": "你的问题需要人工审核，智能管家暂不回答。如需帮助，可以转人工客服。",
}
WARNING = "提醒：多次尝试获取违规内容，智能管家将暂停为你服务。"
OUTPUT_NOTICES = {
    "stopped": "该回答含有不适宜的内容，已被撤回。请换个问题，或转人工客服。",
    "held": "该回答需要人工审核后才能显示。如需帮助，可以转人工客服。",
}
MASK = "*"


class ReviewError(DomainError):
    pass


# Normalisation

_t2s = opencc.OpenCC("t2s")

# Characters read as another: homophones and look-alikes people write to get a banned word past a filter.
_VARIANTS = str.maketrans({
    "堵": "赌", "睹": "赌", "渎": "赌", "搏": "博", "膊": "博", "漂": "票", "飘": "票", "剽": "票", "涩": "色",
    "啬": "色", "抢": "枪", "呛": "枪", "毐": "毒", "犊": "毒", "銭": "钱",
    # Cyrillic and Greek letters that look like Latin ones.
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "к": "k", "м": "m", "т": "t", "в": "b", "н": "h", "α": "a", "ο": "o", "ρ": "p", "ν": "v", "τ": "t",
})
# Digits and symbols written inside a word of letters for the letters they look like (s3x, p0rn, $ex).
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
# Pinyin written for a banned word.
_PINYIN = {"dubo": "赌博", "seqing": "色情", "fapiao": "发票", "daikai": "代开", "luoliao": "裸聊", "dupin": "毒品",
           "xiqian": "洗钱", "qiangzhi": "枪支", "yuepao": "约炮"}


def _kept(char):
    """A letter or a digit (what is matched); separators, punctuation, symbols, marks and zero-width characters are
    dropped."""
    return unicodedata.category(char)[0] in "LN"


@dataclass(frozen=True)
class Normalised:
    """The matched form (``text``) and, for each of its characters, where it came from in the text as typed
    (``spans``: [start, end) of the original)."""
    text: str
    spans: tuple

    def original(self, start, end):
        """The original text's [start, end) that characters [start, end) of the normalised one came from."""
        return self.spans[start][0], self.spans[end - 1][1]

    def start_of(self, index, length):
        """Where the normalised character ``index`` begins in the original (``length``: past its end)."""
        return self.spans[index][0] if index < len(self.spans) else length


def normalise(text: str) -> Normalised:
    chars, spans = [], []
    for i, char in enumerate(text or ""):
        for out in unicodedata.normalize("NFKC", char):
            chars.append(out)
            spans.append((i, i + 1))
    joined = "".join(chars)
    simplified = _t2s.convert(joined)
    if len(simplified) == len(joined):
        chars = list(simplified)
    else:  # a phrase converted to one of another length: character by character instead
        chars = [_t2s.convert(c)[:1] or c for c in chars]
    kept = [(low, span) for char, span in zip(chars, spans, strict=True)
            for low in char.lower().translate(_VARIANTS) if _kept(low) or low in _LEET]
    # A digit (or @, $) alone among Latin letters is the letter it looks like (p0rn); elsewhere (numbers, 4x4) a digit
    # is a digit and the symbol a separator.
    out = []
    for i, (char, span) in enumerate(kept):
        if char in _LEET:
            before = kept[i - 1][0] if i else ""
            after = kept[i + 1][0] if i + 1 < len(kept) else ""
            if (_latin(before) or _latin(after)) and not (before.isdigit() or after.isdigit()):
                char = _LEET[char]
            elif not _kept(char):
                continue
        out.append((char, span))
    text_out = "".join(c for c, _ in out)
    spans_out = [span for _, span in out]
    for pinyin, word in _PINYIN.items():
        start = text_out.find(pinyin)
        while start >= 0:
            whole = (spans_out[start][0], spans_out[start + len(pinyin) - 1][1])
            text_out = text_out[:start] + word + text_out[start + len(pinyin):]
            spans_out[start:start + len(pinyin)] = [whole] * len(word)
            start = text_out.find(pinyin, start + len(word))
    return Normalised(text_out, tuple(spans_out))


def _latin(char):
    return "a" <= char <= "z"


# The term library

@dataclass(frozen=True)
class Hit:
    start: int  # in the normalised text
    end: int
    term: str
    category: str
    action: str


class Library:
    """One version of the term library, compiled."""

    def __init__(self, version, terms):
        self.version = version
        self.automaton = ahocorasick.Automaton()
        self.longest = 1
        for term, normalised, category, action in terms:
            if not normalised:
                continue
            entries = self.automaton.get(normalised, [])
            self.automaton.add_word(normalised, [*entries, (term, category, action, len(normalised))])
            self.longest = max(self.longest, len(normalised))
        self.empty = len(self.automaton) == 0
        if not self.empty:
            self.automaton.make_automaton()

    def find(self, text):
        """The terms in ``text`` (normalised) that no allow-list entry overlaps, in order of their start."""
        if self.empty or not text:
            return []
        found, allowed = [], []
        for end, entries in self.automaton.iter(text):
            for term, category, action, length in entries:
                hit = Hit(end + 1 - length, end + 1, term, category, action)
                (allowed if action == "allow" else found).append(hit)
        hits = [h for h in found if not any(a.start < h.end and h.start < a.end for a in allowed)]
        return sorted(hits, key=lambda h: (h.start, -h.end))


_cache = {"library": None}


def current_version():
    return db.session.scalar(select(func.max(ReviewLibraryVersion.version))) or 0


def library() -> Library:
    """The current version's library: built once per version in each process (another process's change is seen at
    the next check, by the stored version number)."""
    version = current_version()
    cached = _cache["library"]
    if cached is None or cached.version != version:
        rows = db.session.execute(select(ReviewTerm.term, ReviewTerm.normalised, ReviewTerm.category, ReviewTerm.action)
                                  .where(ReviewTerm.removed_in.is_(None)).order_by(ReviewTerm.id)).all()
        cached = _cache["library"] = Library(version, [tuple(row) for row in rows])
    return cached


def strictest(hits):
    return max(hits, key=lambda h: SEVERITY.get(h.action, 0)) if hits else None


def masked(text, norm, hits):
    """``text`` with the mask terms among ``hits`` starred out, character for character as typed."""
    chars = list(text)
    for hit in hits:
        if hit.action == "mask":
            start, end = norm.original(hit.start, hit.end)
            chars[start:end] = [c if not _kept(c) else MASK for c in chars[start:end]]
    return "".join(chars)


# Input

@dataclass(frozen=True)
class Verdict:
    verdict: str  # ok | refused | blocked | held
    category: str = ""
    message: str = ""  # for the user, in Chinese ("" when ok)
    text: str = ""  # what an engine may see: the question with mask terms starred out (when ok)
    warned: bool = False

    @property
    def ok(self):
        return self.verdict == "ok"


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORDISH = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
_VOWELS = set("aeiouy")


def _common_cjk(char):
    """A character of GB 2312's first level (the 3,755 in everyday use)."""
    try:
        first = char.encode("gb2312")[0]
    except UnicodeEncodeError:
        return False
    return 0xB0 <= first <= 0xD7


def is_gibberish(text):
    """Input with no meaning to answer: mostly symbols, one or two characters repeated, keyboard mashing, a run of
    rare characters."""
    plain = "".join(unicodedata.normalize("NFKC", text or "").split())
    if not plain:
        return True
    wordish = [c for c in plain if _WORDISH.match(c) and c != "_"]
    if len(plain) >= 3 and len(wordish) < len(plain) / 2:
        return True
    if len(plain) >= 4 and len(set(plain.lower())) <= 2:
        return True
    cjk = _CJK.findall(plain)
    if len(cjk) >= 4 and sum(not _common_cjk(c) for c in cjk) * 2 > len(cjk):
        return True
    if not cjk:
        words = re.findall(r"[a-z]+", plain.lower())
        letters = sum(len(w) for w in words)
        mashed = sum(len(w) for w in words if len(w) >= 5 and (not _VOWELS & set(w) or re.search(r"[^aeiouy]{5}", w)))
        if letters >= 5 and mashed * 2 >= letters:
            return True
    return False


# Prompt injection, matched in the normalised text (no spaces or punctuation, lower case, simplified).
_INJECTION = re.compile("|".join([
    r"(忽略|无视|忘记|忘掉|不要理会|别管|跳过|绕过|覆盖)(掉)?(你)?(以上|上面|上述|之前|前面|先前|此前|所有|全部|你的|原来|原有|系统)"
    r"(的)?(所有|全部)?(的)?(指令|指示|规则|设定|提示|要求|限制|约束|命令|规定|内容)",
    r"(ignore|disregard|forget|override|bypass)(all|the|any|every)*(previous|prior|above|earlier|preceding|your|system)?"
    r"(instructions?|rules|prompts?|directions|guidelines)",
    r"你现在(是|扮演|作为|变成)(?!(人工|真人|机器人|谁|什么|ai|智能|在|不))",
    r"(从现在(开始|起)|接下来)你(是|就是|将|要|扮演|不再)",
    r"(假装|想象)你(是|不是|没有)", r"(扮演|模仿|充当)(一个|一名|一位|我的)", r"角色扮演", r"(请|你来|你要)扮演",
    r"systemprompt", r"系统提示词", r"提示词", r"(你的|原始|初始|隐藏)(指令|设定|prompt)",
    r"(开发者|调试|上帝|越狱)模式", r"developermode", r"jailbreak", r"越狱", r"doanythingnow",
    r"你(现在|已经|将)?(不受|没有|不再有)(任何)?(的)?(限制|约束|审查|过滤)",
    r"(解除|去掉|取消|绕过|关闭)(你的|所有|全部|任何)+(限制|约束|审查|过滤|安全)",
    r"(pretend|roleplay|actas)(you|a|an|my)", r"youarenow(dan|unfiltered|unrestricted|jailbroken|free)",
    r"fromnowonyou", r"newinstructions", r"(reveal|print|repeat|show)(me)?(your|the)(instructions|prompt|system)",
    r"repeatthe(words|text)above", r"(你的|内部|系统|后台)(配置|源代码|源码|数据库|密钥|apikey|token)",
]))
# Chat markup of models, matched in the text as typed (normalisation would drop its punctuation).
_MARKUP = re.compile(r"<\|im_(start|end)\|>|\[/?(system|inst)\]|<</?sys>>|^\s*(system|assistant)\s*:", re.I | re.M)

# Someone else's personal data: a person other than the user, then what identifies them or their policies.
_OTHERS = (r"(别人|他人|其他人|其他用户|别的用户|所有用户|全部用户|其他客户|所有客户|某人|陌生人|(?<!其)他|(?<!其)她|朋友|同事|邻居|前任|前男友|前女友|前夫|前妻|老板|领导"
           r"|这个人|此人|那个人|该用户|这位|这名|[\u4e00-\u9fff]{1,2}(先生|女士|小姐))")
_THEIR_DATA = (r"(的)?(身份证|证件号|手机号|手机号码|电话|号码|住址|地址|家庭住址|保单|投保记录|投保信息|理赔记录|病历|病史"
               r"|银行卡|个人信息|隐私|资料|信息|行踪|位置)")
# Asked for: a verb of finding out before the person, or a question of what it is after the data ("她的身份证要填吗"
# about insuring one's wife is not a request for it).
_FIND_OUT = r"(查|查询|查一下|查查|查到|告诉我|提供|找|获取|调取|知道|看看|看一下|导出|列出|泄露|要到|拿到|搜|弄到)"
# Someone named (张三的手机号): two or three characters, none of them the user (我, 自己, 本人), then what identifies a
# person (not 保单, which follows a product's name as often).
_NAMED = r"(?:一下)?(?:(?![我你自己本的])[\u4e00-\u9fff]){2,3}的(身份证|证件号|手机|电话|号码|住址|地址|银行卡)"
_PERSONAL = re.compile("|".join([
    _FIND_OUT + r".{0,3}?" + _OTHERS + _THEIR_DATA,
    _FIND_OUT + _NAMED,
    _OTHERS + _THEIR_DATA + r"(号)?(是(什么|多少|哪)|在哪|多少|给我|发我|发给我|告诉我)",
    _OTHERS + r"住在哪",
    r"人肉(搜索)?|开盒|社工库",
    r"(这个|此)?(手机号|电话|号码|身份证)(号)?(是)?(谁的|的主人|的机主|机主|户主|属于谁)",
    r"(someone|somebody|another|other)(person|people|user)?s?(idnumber|phonenumber|address|policy|personal)",
]))
_NUMBER_LOOKUP = re.compile(r"1[3-9]\d{9}|\d{17}[\dx]")
_LOOKUP_WORDS = re.compile(r"是谁|谁的|机主|户主|主人|查(询|一下|查)?(这个|这)?(人|号)|找(到)?(这个)?人")


def asks_for_others_data(norm_text):
    return bool(_PERSONAL.search(norm_text)) or bool(_NUMBER_LOOKUP.search(norm_text) and _LOOKUP_WORDS.search(norm_text))


def check_input(text, user, now, ip="") -> Verdict:
    """The review of a question before any engine sees it. A verdict other than ok is recorded, and may warn or
    restrict the user: call it in the transaction that stores the question (after begin_write()), which commits
    them."""
    user_id = getattr(user, "id", user)
    restriction = restriction_of(user_id, now) if user_id is not None else None
    if restriction is not None:
        _record(user_id, "input", "refused", RESTRICTED, None, now, ip)
        return Verdict("refused", RESTRICTED, _restricted_message(restriction) + "如需帮助，可以转人工客服。")
    norm = normalise(text)
    if is_gibberish(text):
        return _refuse(user_id, "refused", GIBBERISH, MESSAGES[GIBBERISH], None, now, ip)
    if _INJECTION.search(norm.text) or _MARKUP.search(text):
        return _refuse(user_id, "refused", INJECTION, MESSAGES[INJECTION], None, now, ip)
    if asks_for_others_data(norm.text):
        return _refuse(user_id, "refused", OTHERS_DATA, MESSAGES[OTHERS_DATA], None, now, ip)
    terms = library()
    hits = terms.find(norm.text)
    worst = strictest(hits)
    if worst is None:
        return Verdict("ok", text=text)
    if worst.action == "block":
        return _refuse(user_id, "blocked", worst.category, MESSAGES["blocked"], terms.version, now, ip)
    if worst.action == "hold":
        return _refuse(user_id, "held", worst.category, MESSAGES["held"], terms.version, now, ip)
    _record(user_id, "input", "masked", worst.category, terms.version, now, ip)
    return Verdict("ok", worst.category, text=masked(text, norm, hits))


def _refuse(user_id, verdict, category, message, version, now, ip):
    _record(user_id, "input", verdict, category, version, now, ip)
    warned = _escalate(user_id, now) if category != GIBBERISH else None
    if warned == "restricted":
        message += _restricted_message(restriction_of(user_id, now))
    elif warned == "warned":
        message += WARNING
    return Verdict(verdict, category, message, warned=warned is not None)


def _restricted_message(restriction):
    return f"由于多次尝试获取违规内容，智能管家已暂停为你服务至{format_local(restriction.until)}。"


def _record(user_id, stage, verdict, category, version, now, ip, message_id=None):
    event = ReviewEvent(user_id=user_id, message_id=message_id, stage=stage, verdict=verdict, category=category[:30],
                        library_version=version, at=now, ip=(ip or "")[:64])
    db.session.add(event)
    db.session.flush()
    return event


# Warnings and restrictions

def restriction_of(user, now):
    """The user's restriction in force at ``now`` (a UserRestriction of level restricted), or None."""
    user_id = getattr(user, "id", user)
    if user_id is None:
        return None
    return db.session.scalar(select(UserRestriction).where(
        UserRestriction.user_id == user_id, UserRestriction.level == "restricted", UserRestriction.until > now)
        .order_by(UserRestriction.until.desc()).limit(1))


def _counted_since(user_id, now):
    """Where the user's attempts are counted from: WINDOW ago, or the end of their last restriction if later."""
    since = now - WINDOW
    ended = db.session.scalar(select(func.max(UserRestriction.until)).where(
        UserRestriction.user_id == user_id, UserRestriction.level == "restricted", UserRestriction.until <= now))
    return max(since, ended) if ended is not None else since


def attempts(user_id, now):
    """The user's attempts that count towards a warning (乱码 and refusals of a user already restricted aside),
    within WINDOW before ``now`` and since their last restriction ended."""
    return db.session.scalar(select(func.count(ReviewEvent.id)).where(
        ReviewEvent.user_id == user_id, ReviewEvent.at > _counted_since(user_id, now), ReviewEvent.at <= now,
        ReviewEvent.verdict.in_(("refused", "blocked", "held", "stopped")),
        ReviewEvent.category.not_in((GIBBERISH, RESTRICTED)))) or 0


def _escalate(user_id, now):
    """Warns (once in a window) or restricts a user whose attempts reached WARN_AT or RESTRICT_AT: "warned",
    "restricted" or None."""
    if user_id is None:
        return None
    count = attempts(user_id, now)
    reason = f"{int(WINDOW.total_seconds() // 3600)}小时内{count}次尝试获取违规内容"
    if count >= RESTRICT_AT:
        db.session.add(UserRestriction(user_id=user_id, level="restricted", reason=reason, at=now,
                                       until=now + RESTRICTED_FOR))
        db.session.flush()
        return "restricted"
    if count < WARN_AT:
        return None
    warned = db.session.scalar(select(UserRestriction.id).where(
        UserRestriction.user_id == user_id, UserRestriction.level == "warned",
        UserRestriction.at > _counted_since(user_id, now)).limit(1))
    if warned is None:
        db.session.add(UserRestriction(user_id=user_id, level="warned", reason=reason, at=now, until=None))
    return "warned"


# Output

@dataclass(frozen=True)
class Step:
    """What a chunk fed to the watcher lets the page show: ``text`` to append (mask terms starred out), or
    ``stopped``: what was shown is to be replaced by ``notice`` (消除), and nothing more is to be sent."""
    text: str = ""
    stopped: bool = False
    verdict: str = "ok"  # ok | masked | stopped | held
    category: str = ""
    notice: str = ""


class OutputWatcher:
    """An answer checked while it streams. Each chunk is checked with the text still held back before it (the
    window overlaps the last one by the longest term), so a term split between chunks is found; text is released
    once no term, and no allow-list entry, can still be completing in it. ``finish`` releases the rest.

        watcher = OutputWatcher(user_id=…, ip=…, now=…)
        for chunk in chunks:
            step = watcher.feed(chunk)
            if step.stopped: replace what was shown with step.notice; break
            send(step.text)
        send(watcher.finish().text)   # unless stopped
        …begin_write(), store the answer, watcher.record(message_id), commit

    The watcher writes nothing while the answer streams (no write lock is held while a model answers): its verdicts
    wait in ``verdicts`` until ``record`` adds them to the session, in the transaction that stores the answer."""

    def __init__(self, *, user_id=None, ip="", now):
        self.user_id, self.ip, self.now = user_id, ip, now
        self.library = library()
        self.seen = ""
        self.released = 0  # the original text before this has been sent
        self.window = 0  # where the next check starts (before ``released``: the overlap)
        self.stopped = None
        self.masked = False
        self.shown = []
        self.verdicts = []  # (verdict, category) other than ok, in the order they came

    @property
    def text(self):
        """Everything released so far, as shown."""
        return "".join(self.shown)

    def feed(self, chunk) -> Step:
        if self.stopped is not None:
            return self.stopped
        self.seen += chunk or ""
        return self._check(final=False)

    def finish(self) -> Step:
        if self.stopped is not None:
            return self.stopped
        return self._check(final=True)

    def _check(self, final):
        norm = normalise(self.seen[self.window:])
        n, longest = len(norm.text), self.library.longest
        released = next((i for i, span in enumerate(norm.spans) if span[0] + self.window >= self.released), n)
        hits = [h for h in self.library.find(norm.text) if h.end > released]
        settled = n if final else max(released, n - (longest - 1))
        release = settled
        for hit in sorted(hits, key=lambda h: h.start):
            if hit.start < release < hit.end or (hit.end > settled and hit.start < release):
                release = max(released, hit.start)
        decided = [h for h in hits if h.end <= settled]
        worst = strictest([h for h in decided if h.action in ("block", "hold")])
        if worst is not None:
            verdict = "stopped" if worst.action == "block" else "held"
            self.verdicts.append((verdict, worst.category))
            self.stopped = Step(stopped=True, verdict=verdict, category=worst.category, notice=OUTPUT_NOTICES[verdict])
            return self.stopped
        end = len(self.seen) if final else self.window + norm.start_of(release, len(self.seen) - self.window)
        part = self.seen[self.released:end]
        masks = [h for h in decided if h.action == "mask" and h.start < release]
        category = ""
        if masks:
            offset = self.released - self.window
            shown = masked(self.seen[self.window:end], norm, masks)[offset:]
            if shown != part:
                category = masks[0].category
                if not self.masked:
                    self.masked = True
                    self.verdicts.append(("masked", category))
            part = shown
        self.shown.append(part)
        self.released = end
        self.window = self.window + norm.start_of(max(0, release - (longest - 1)), len(self.seen) - self.window)
        return Step(part, verdict="masked" if self.masked else "ok", category=category)

    def record(self, message_id=None):
        """Adds the answer's review events to the session (for the caller's transaction to commit); a stopped answer
        counts towards the user's warning and restriction. The events."""
        events = [_record(self.user_id, "output", verdict, category, self.library.version, self.now, self.ip,
                          message_id) for verdict, category in self.verdicts]
        if any(verdict == "stopped" for verdict, _ in self.verdicts):
            _escalate(self.user_id, self.now)
        self.verdicts = []
        return events


# Changes to the library (the back office's; each is a new version)

audit.register(
    actions={"review.term_added": "新增审核词条", "review.term_retired": "停用审核词条"},
    object_types={"review_term": "审核词条"},
    field_labels={"term": "词条", "category": "类别", "action": "处理方式", "version": "词库版本"},
    value_labels={"action": TERM_ACTIONS})


def _next_version(staff, summary, now):
    version = current_version() + 1
    db.session.add(ReviewLibraryVersion(version=version, summary=summary[:200], changed_by_id=staff.id, changed_at=now))
    return version


def add_term(staff, *, term, category, action, now, ip=""):
    """A new term in a new library version; refused when the library already has it (as normalised)."""
    term = term.strip()
    normalised = normalise(term).text
    if not normalised:
        raise ReviewError("词条须含有文字或数字（标点、空格和符号在匹配时会被忽略）", field="term")
    if len(normalised) > 100:
        raise ReviewError("词条最多100个字", field="term")
    if category not in CATEGORIES:
        raise ReviewError("请从列出的类别中选择", field="category")
    if action not in TERM_ACTIONS:
        raise ReviewError("请从列出的处理方式中选择", field="action")
    existing = db.session.scalar(select(ReviewTerm).where(ReviewTerm.normalised == normalised,
                                                          ReviewTerm.removed_in.is_(None)).limit(1))
    if existing is not None:
        raise ReviewError(f"词库中已有「{existing.term}」（{TERM_ACTIONS[existing.action]}），与此词条匹配的文字相同；"
                          "如要改变处理方式，请先停用它", field="term")
    summary = f"新增「{term}」（{category}·{TERM_ACTIONS[action]}）"
    version = _next_version(staff, summary, now)
    row = ReviewTerm(term=term, normalised=normalised, category=category, action=action, added_in=version,
                     created_by_id=staff.id, created_at=now)
    db.session.add(row)
    _flush_version()
    audit.record("review.term_added", staff=staff, object_type="review_term", object_id=row.id, now=now, ip=ip,
                 after={"term": term, "category": category, "action": action, "version": version})
    return row


def retire_term(staff, term, *, reason, now, ip=""):
    """Retires ``term`` in a new library version (a conditional UPDATE: retired once)."""
    summary = f"停用「{term.term}」（{term.category}·{TERM_ACTIONS.get(term.action, term.action)}）"
    version = _next_version(staff, summary, now)
    _flush_version()
    done = db.session.execute(update(ReviewTerm).where(ReviewTerm.id == term.id, ReviewTerm.removed_in.is_(None))
                              .values(removed_in=version).execution_options(synchronize_session=False)).rowcount
    if not done:
        raise ReviewError("该词条已停用", field="reason")
    audit.record("review.term_retired", staff=staff, object_type="review_term", object_id=term.id, now=now, ip=ip,
                 before={"version": term.added_in}, after={"version": version}, reason=reason)
    return version


def _flush_version():
    try:
        db.session.flush()
    except IntegrityError as error:
        raise ReviewError("词库刚被其他同事修改，请刷新后重试", field="term") from error


# The demo library

DEMO_TERMS = [
    ("违法违规", "block", ["赌博", "网络赌博", "代开发票", "洗钱", "毒品", "买卖身份证", "信用卡套现", "枪支", "办假证"]),
    ("违法违规", "hold", ["刷单", "高利贷", "骗保"]),
    ("色情", "block", ["色情", "裸聊", "约炮", "嫖娼", "黄色网站", "成人视频"]),
    ("暴力", "block", ["杀人", "制造炸弹", "自制炸药", "自杀方法"]),
    ("暴力", "hold", ["砍人", "报复社会"]),
    ("歧视", "mask", ["残废", "弱智", "乡巴佬", "娘炮", "死胖子"]),
    ("虚假宣传", "block", ["稳赚不赔", "保本保息", "保证收益", "零风险", "无条件理赔", "100%理赔", "等同存款"]),
    ("保险违规用语", "hold", ["全网最低价", "第一品牌", "国家级保险", "代替社保"]),
    ("违法违规", "allow", ["吸食或注射毒品", "故意自杀"]),
    ("虚假宣传", "allow", ["不保证收益", "并非无条件理赔"]),
]


def seed_review_terms(now):
    """The demo library (idempotent: only when the library has no version yet), as version 1. The number of terms."""
    if current_version():
        return 0
    db.session.add(ReviewLibraryVersion(version=1, summary="演示词库", changed_at=now))
    count = 0
    for category, action, terms in DEMO_TERMS:
        for term in terms:
            db.session.add(ReviewTerm(term=term, normalised=normalise(term).text, category=category, action=action,
                                      added_in=1, created_at=now))
            count += 1
    db.session.flush()
    return count
