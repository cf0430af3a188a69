"""Citizens' identifiers as typed at the kiosk: resident ID numbers (GB 11643-1999) and mainland
mobile numbers.

A mistyped ID number would sit on the notice and in the case file until a clerk noticed at the
window; the check digit catches every single-digit error and every swap of two adjacent digits,
so the kiosk refuses it while the citizen is still standing there."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from server.domain.errors import Invalid

# GB 11643-1999: weight of position i is 2^(17-i) mod 11; the check character is the residue
# of the weighted sum, mapped through this table (10 is written X).
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK: Final = "10X98765432"
_ID_FORMAT: Final = re.compile(r"[1-9]\d{16}[\dX]", re.ASCII)
# Mainland mobile numbers: 11 digits, 1 then 3–9 (no 10x/11x/12x series is issued to people).
_PHONE_FORMAT: Final = re.compile(r"1[3-9]\d{9}", re.ASCII)

ID_NUMBER_MESSAGE: Final = "身份证号码不正确，请核对后重新输入（18 位，最后一位可以是 X）"
PHONE_MESSAGE: Final = "手机号码不正确，请输入 11 位手机号码"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_valid_id_number(value: str, today: date | None = None) -> bool:
    value = value.strip().upper()
    if not _ID_FORMAT.fullmatch(value):
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not date(1850, 1, 1) <= born <= (today or date.today()):
        return False
    return id_check_char(value[:17]) == value[17]


def validate_id_number(value: str, today: date | None = None) -> str:
    """The ID number in its stored form (upper-case X), or Invalid(invalid_id_number)."""
    if not isinstance(value, str) or not is_valid_id_number(value, today):
        raise Invalid(ID_NUMBER_MESSAGE, code="invalid_id_number", field="id_number")
    return value.strip().upper()


def is_valid_phone(value: str) -> bool:
    return bool(_PHONE_FORMAT.fullmatch(value.strip()))


def validate_phone(value: str) -> str:
    """The mobile number without surrounding blanks, or Invalid(invalid_phone)."""
    if not isinstance(value, str) or not is_valid_phone(value):
        raise Invalid(PHONE_MESSAGE, code="invalid_phone", field="phone")
    return value.strip()


def mask_phone(value: str) -> str:
    """138****1234: enough for a citizen to recognise their number, useless to anyone else."""
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "***"


def mask_id_number(value: str) -> str:
    """The region (6) and the check character stay; birth date and sequence number go."""
    return value[:6] + "*" * 11 + value[-1:] if len(value) == 18 else "***"


def mask_name(value: str) -> str:
    """张*三 / 李* / 欧阳**: the family name and, for three characters or more, the last one;
    enough for the applicant to recognise their case on a public screen."""
    value = value.strip()
    if len(value) <= 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
