"""Chinese licence plates and VINs: what the car quote checks before pricing anything."""
import re

# 省、自治区、直辖市的简称 as the first character of a plate.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Letters on plates never include I or O; the last one may be 学/警/挂 etc. for special plates, which
# private cars do not have.
_PLATE = re.compile(rf"^[{PROVINCES}][A-HJ-NP-Z]([A-HJ-NP-Z0-9]{{5}}|[A-HJ-NP-Z0-9]{{6}})$")

_VIN_VALUES = {**{str(d): d for d in range(10)},
               **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
               **dict(zip("STUVWXYZ", range(2, 10)))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise_plate(value: str) -> str:
    return re.sub(r"[\s·•-]", "", value or "").upper()


def is_valid_plate(plate: str) -> bool:
    """京A12345 (5 after the letter) or, for new-energy cars, 粤BD12345 (6)."""
    return bool(_PLATE.match(plate))


def is_new_energy_plate(plate: str) -> bool:
    return is_valid_plate(plate) and len(plate) == 8


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 check digit (position 9) of a 17-character VIN."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_problem(vin: str) -> str | None:
    """None for a good VIN, else what is wrong with it, in Chinese."""
    if len(vin) != 17:
        return "车架号（VIN）应为17位"
    if any(c in "IOQ" for c in vin):
        return "车架号中不会出现字母 I、O、Q，请检查是否误为数字 1、0"
    if any(c not in _VIN_VALUES for c in vin):
        return "车架号只包含数字和大写字母"
    if vin[8] != vin_check_digit(vin):
        return "车架号校验位不符，请核对行驶证上的车架号"
    return None
