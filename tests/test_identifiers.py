import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from yimatong.lib.identifiers import (
    USCC_ALPHABET,
    clean_mobile,
    clean_uscc,
    mask_phone,
    uscc_with_check_digit,
)

VALID = "91110000600037341L"  # the example in python-stdnum's documentation


def test_a_valid_uscc_is_returned_unchanged():
    assert clean_uscc(VALID) == VALID


def test_a_lowercase_uscc_with_spaces_is_stored_in_upper_case():
    assert clean_uscc(" 9111 0000 6000 3734 1l ") == VALID


def test_a_wrong_check_digit_names_the_expected_digit():
    with pytest.raises(ValidationError) as exc:
        clean_uscc("91110000600037341M")
    assert exc.value.code == "uscc_checksum"
    message = exc.value.messages[0]
    assert "第 18 位应为 L" in message
    assert "而不是 M" in message


@pytest.mark.parametrize("raw, length", [("9111000060003734", 16), ("91110000600037341LX", 19), ("9", 1)])
def test_a_uscc_of_the_wrong_length_says_how_long_it_was(raw, length):
    with pytest.raises(ValidationError) as exc:
        clean_uscc(raw)
    assert exc.value.code == "uscc_length"
    assert exc.value.messages == [f"统一社会信用代码应为 18 位，当前为 {length} 位。"]


def test_a_uscc_with_a_forbidden_letter_is_a_format_error():
    with pytest.raises(ValidationError) as exc:
        clean_uscc("9111000060003734IO")
    assert exc.value.code == "uscc_format"


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)
def test_every_completed_uscc_validates(head, body):
    code = uscc_with_check_digit(head + body)
    assert clean_uscc(code) == code
    assert clean_uscc(code.lower()) == code


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_mobile_numbers_are_stored_in_one_form(raw, stored):
    assert clean_mobile(raw) == stored


@pytest.mark.parametrize(
    "raw, code",
    [
        ("1381234567", "phone_invalid"),
        ("12345678901", "phone_invalid"),
        ("abc", "phone_letters"),
        ("13812abc678", "phone_letters"),
        ("023-66220001", "phone_not_mobile"),
    ],
)
def test_bad_mobile_numbers_are_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as exc:
        clean_mobile(raw)
    assert exc.value.code == code


@pytest.mark.parametrize(
    "value, masked", [("13812345678", "138****5678"), ("+85291234567", "+85*****4567"), ("", "")]
)
def test_phone_numbers_are_masked_keeping_the_first_three_and_last_four(value, masked):
    assert mask_phone(value) == masked
