"""Money is integer fen everywhere; Decimal only for arithmetic with factors, rounded half-up to the fen."""
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("1")


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
