"""Money is integer fen everywhere; Decimal only for arithmetic with factors, rounded half-up to the fen."""
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("1")
MAX_FEN = 2**31 - 1  # what an INTEGER column holds
_YUAN = re.compile(r"(?P<yuan>\d{1,9})(?:\.(?P<cents>\d{1,2}))?")


def parse_yuan(text) -> int:
    """An amount in yuan as people type it ("1,234.5", "¥88", "８８元", full-width too) → exact fen. Raises
    ValueError with a Chinese message for anything else (a third decimal is refused, never rounded)."""
    value = unicodedata.normalize("NFKC", str(text or "")).strip()
    value = value.removeprefix("¥").removeprefix("￥").removesuffix("元").replace(",", "").strip()
    match = _YUAN.fullmatch(value)
    if match is None:
        if re.fullmatch(r"\d+\.\d{3,}", value):
            raise ValueError("金额最多精确到分（两位小数）")
        raise ValueError("请填写金额，如 88 或 88.50")
    fen = int(match["yuan"]) * 100 + int((match["cents"] or "0").ljust(2, "0"))
    if fen > MAX_FEN:
        raise ValueError("金额过大，请检查后重新填写")
    return fen


def yuan_text(fen: int | None) -> str:
    """fen → what parse_yuan reads back, without the sign or separators: 8850 -> '88.50' (for form values)."""
    if fen is None:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


def round_fen(amount: Decimal) -> int:
    """Round a Decimal amount of fen to a whole fen, half-up (the insurers' convention)."""
    return int(amount.quantize(FEN, rounding=ROUND_HALF_UP))


def format_yuan(fen: int | None) -> str:
    """12345 -> '¥123.45'; 123450 -> '¥1,234.50'."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def format_yuan_short(fen: int) -> str:
    """Sums assured as people read them: 3000000_00 -> '300万', 5000_00 -> '5,000元'."""
    yuan = int(fen) // 100
    if yuan >= 10000 and yuan % 10000 == 0:
        return f"{yuan // 10000:,}万"
    return f"{yuan:,}元"
