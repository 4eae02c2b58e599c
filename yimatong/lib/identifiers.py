"""Chinese identifiers: unified social credit codes (统一社会信用代码) and mobile numbers.

Validation is python-stdnum's ``cn.uscc`` and Google's libphonenumber (``phonenumbers``);
this module only turns their exceptions into messages a user can act on, and adds the
mask shown to people who do not own a record.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def clean_uscc(raw: str) -> str:
    """Return the code in its stored form (18 upper-case characters) or raise ``ValidationError``.

    Lower-case input and spaces or dashes are accepted and normalized, as people copy codes from
    scanned licences.
    """
    value = uscc.compact(raw or "")
    try:
        return uscc.validate(value)
    except stdnum_exceptions.InvalidLength:
        raise ValidationError(
            _("统一社会信用代码应为 18 位，当前为 %(length)d 位。"),
            code="uscc_length",
            params={"length": len(value)},
        ) from None
    except stdnum_exceptions.InvalidChecksum:
        expected = uscc.calc_check_digit(value)
        raise ValidationError(
            _("统一社会信用代码校验位不正确：第 18 位应为 %(expected)s，而不是 %(actual)s，请核对营业执照。"),
            code="uscc_checksum",
            params={"expected": expected, "actual": value[-1]},
        ) from None
    except stdnum_exceptions.ValidationError:
        raise ValidationError(
            _("统一社会信用代码格式不正确：前 8 位为数字，其余为数字或除 I、O、Z、S、V 以外的大写字母。"),
            code="uscc_format",
        ) from None


def uscc_with_check_digit(first17: str) -> str:
    """Complete a 17-character body with its check digit (used by the demo data)."""
    return first17 + uscc.calc_check_digit(first17)


def clean_mobile(raw: str, *, region: str = "CN") -> str:
    """Return a mobile number in its stored form or raise ``ValidationError``.

    Chinese numbers are stored as their 11 national digits (13812345678); numbers from abroad,
    entered with their + country code, are stored in E.164 (+85291234567).
    """
    text = (raw or "").strip()
    # libphonenumber reads letters as keypad digits (1-800-FLOWERS), so "13812abc678" would
    # parse as 13812222678: a mobile number here is digits, spaces, dashes, dots, brackets, "+".
    if any(ch.isalpha() for ch in text):
        raise ValidationError(
            _("手机号码只能包含数字：%(number)s 含有字母，请核对。"),
            code="phone_letters",
            params={"number": text},
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("手机号码无法识别：请输入 11 位手机号码，境外号码请以 + 和国家代码开头。"), code="phone_format"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("手机号码无效：%(number)s 不是一个已分配的号码段，请核对。"),
            code="phone_invalid",
            params={"number": text},
        )
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValidationError(
            _("请填写手机号码：%(number)s 是固定电话号码。"), code="phone_not_mobile", params={"number": text}
        )
    if number.country_code == 86:
        return phonenumbers.national_significant_number(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_digits(text: str) -> str:
    """The digits of a search term that looks like (part of) a phone number, else ""."""
    compact = text.strip().lstrip("+").replace(" ", "").replace("-", "")
    return compact if len(compact) >= 4 and compact.isdigit() else ""


def mask_phone(value: str) -> str:
    """138****1234: the first three and the last four digits stay readable."""
    if not value:
        return ""
    if len(value) <= 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
