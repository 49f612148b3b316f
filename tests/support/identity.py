"""Valid Chinese resident ID numbers, and the people the tests buy for and approve as."""
from datetime import date

from stdnum.cn import ric


def fix_id(number):
    """The number with its check digit made right."""
    return number[:17] + ric.calc_check_digit(number[:17] + "0")  # it reads all but the last digit


def id_number(born: date, sequence="123", region="110101"):
    """A valid ID number of someone born on ``born`` (an odd 17th digit of ``sequence`` is a man)."""
    return fix_id(f"{region}{born:%Y%m%d}{sequence}")


ME = id_number(date(1990, 5, 1), "131")  # odd 17th digit: male
KID = id_number(date(2016, 8, 8), "242")  # even: female
DAD = id_number(date(1960, 1, 1), "351")
WIFE = id_number(date(1991, 2, 3), "262")
SON = id_number(date(2018, 6, 6), "371")
ADULT_ID = id_number(date(1980, 3, 7))  # a guardian's

APPLICANT = {"name": "张伟", "id_number": ME, "mobile": "13800138000", "email": "", "province": "广东",
             "city": "深圳", "district": "南山区", "address": "科技园路1号A座"}
