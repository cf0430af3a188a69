"""Resident ID numbers (GB 11643-1999 check character) and mobile numbers as the kiosk takes them."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.errors import Invalid
from server.domain.identity import (
    id_check_char,
    is_valid_id_number,
    mask_id_number,
    mask_phone,
    validate_id_number,
    validate_phone,
)

TODAY = date(2026, 12, 1)
# The two worked examples of GB 11643-1999 (its appendix) and three numbers on real region
# codes (Beijing Dongcheng, Rizhao Donggang) whose check characters end in a digit and in X.
VALID = [
    "11010519491231002X",
    "440524188001010014",
    "110101199003074477",
    "371102198810251231",
    "37110219900307005X",
]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass(number: str):
    assert is_valid_id_number(number, TODAY)
    assert validate_id_number(number, TODAY) == number


def test_lower_case_x_is_accepted_and_stored_upper_case():
    assert validate_id_number("11010519491231002x", TODAY) == "11010519491231002X"


@pytest.mark.parametrize("number", VALID)
def test_every_single_digit_off_by_one_is_refused(number: str):
    for i in range(17):
        for delta in (1, -1):
            d = (int(number[i]) + delta) % 10
            typo = number[:i] + str(d) + number[i + 1 :]
            assert not is_valid_id_number(typo, TODAY), typo


@pytest.mark.parametrize("number", VALID)
def test_a_wrong_check_character_is_refused(number: str):
    for c in "0123456789X":
        if c != number[17]:
            assert not is_valid_id_number(number[:17] + c, TODAY)


@pytest.mark.parametrize("number", VALID)
def test_swapping_two_adjacent_different_digits_is_refused(number: str):
    for i in range(16):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert not is_valid_id_number(swapped, TODAY), swapped


def test_check_char_table():
    # the sum 7*1+9*1+10*0+... of the standard's first example leaves residue 2 -> X
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"


@pytest.mark.parametrize(
    "number",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002XX",
        "X1010519491231002X",
        "01010519491231002X",  # no region code starts with 0
        "11010519491231002Y",
        "１１0105194912310020",  # full-width digits
        "110105194902300020",  # 30 February (check char right for these digits)
        "110105202712010011",  # born after today
    ],
)
def test_malformed_numbers_are_refused(number: str):
    assert not is_valid_id_number(number, TODAY)
    with pytest.raises(Invalid) as exc:
        validate_id_number(number, TODAY)
    assert exc.value.code == "invalid_id_number" and exc.value.field == "id_number"
    assert "身份证" in exc.value.message


def test_impossible_dates_with_a_correct_check_char_are_refused():
    for body in ("11010519490230001", "11010520271201001"):  # 30 Feb; born after TODAY
        assert not is_valid_id_number(body + id_check_char(body), TODAY)


@pytest.mark.parametrize("phone", ["13800138000", "19912345678", "15012345678", " 13912345678 "])
def test_mobile_numbers_pass(phone: str):
    assert validate_phone(phone) == phone.strip()


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "1380013800",
        "138001380001",
        "12345678901",
        "10012345678",
        "23800138000",
        "+8613800138000",
        "138-0013-8000",
        "1380013800a",
        "１3800138000",
    ],
)
def test_bad_mobile_numbers_are_refused(phone: str):
    with pytest.raises(Invalid) as exc:
        validate_phone(phone)
    assert exc.value.code == "invalid_phone" and exc.value.field == "phone"
    assert "手机号码" in exc.value.message


def test_masks():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_id_number("11010519491231002X") == "110105***********X"
