"""Redact personal data from comments before they are stored.

>>> redact("Gọi em 0912 345 678 hoặc mail lan.nguyen@gmail.com, STK 19031234567890 Techcombank")
'Gọi em [SĐT] hoặc mail [EMAIL], STK [STK] Techcombank'

Each kind of personal data becomes one stable placeholder (:data:`TOKENS`):

========  =====================================================================================
token     what it replaces
========  =====================================================================================
[EMAIL]   e-mail addresses
[STK]     bank account numbers (6-19 digits) written after "STK", "số tài khoản", "số TK",
          "tài khoản", "TK", optionally with "là" or a bank name in between
[CCCD]    national ID numbers: 9 or 12 digits after "CCCD", "CMND", "CMT", "căn cước (công
          dân)", "chứng minh (nhân dân/thư)", "định danh"; and any standalone 12-digit run
          that starts with a province code 001-096 (the CCCD layout)
[THẺ]     bank card numbers: 16 digits, plain or in groups of four, that pass the Luhn check
[SĐT]     phone numbers: mobile and landline, national or +84/84 form, with spaces, dots,
          dashes or a bracketed area code ("0912 345 678", "+84912345678", "(028) 38234567"),
          also glued to "sđt", "zalo", "tel" ("sdt0912345678")
========  =====================================================================================

What stays: prices ("150k", "1.200.000đ", "giá 199000"), dates, quantities ("5 sao", "2
tiếng"), order codes, business hotlines (1800/1900 numbers, which identify a company, not a
person), and a bare 9-digit number: it is as often an order number or an amount written without
unit as an old CMND, so a 9-digit ID needs its keyword. A 16-digit number that fails the Luhn
check is not a card (a typo or an order code) and stays.

Phone numbers and e-mail addresses use the patterns the normaliser masks for the models
(:mod:`nlp.patterns`), so both agree on what a phone number is. Text is returned in NFC.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, TypeVar, cast

from nlp.errors import InputError
from nlp.patterns import (
    EMAIL_ADDRESS,
    HOTLINE_PREFIXES,
    PHONE_NUMBER,
    is_phone_digits,
    phone_digits,
)

__all__ = [
    "ACCOUNT",
    "CARD",
    "EMAIL",
    "NATIONAL_ID",
    "PHONE",
    "TOKENS",
    "Redaction",
    "redact",
    "redact_many",
    "redact_with_counts",
]

EMAIL: Final = "[EMAIL]"
ACCOUNT: Final = "[STK]"
NATIONAL_ID: Final = "[CCCD]"
CARD: Final = "[THẺ]"
PHONE: Final = "[SĐT]"
TOKENS: Final = (EMAIL, ACCOUNT, NATIONAL_ID, CARD, PHONE)
#: Redaction passes at most (see :func:`redact_with_counts`).
MAX_PASSES: Final = 3

_T = TypeVar("_T")

# Words between a keyword and its number: separators, "số"/"là", and for accounts a bank name.
_GAP = r"[\s:.#=-]*"
_BANKS = (
    "ngân hàng|ngan hang|nh|bank|vietcombank|vcb|techcombank|tcb|vietinbank|bidv|agribank|"
    "mbbank|mb|acb|tpbank|vpbank|sacombank|shb|hdbank|vib|ocb|msb|scb|seabank|eximbank|"
    "momo|zalopay|viettelpay"
)
# The number may not run on into a word or glued digits ("STK 123456789abc" is a code); after a
# space comes another number ("CMND 123456789 0912345678").
_NUMBER_END = r"(?![\w]|[.,-]\d)"
_MONEY_AFTER = r"(?!\s?(?:đ|₫|k|vnđ|vnd|đồng|dong|nghìn|nghin|ngàn|ngan|triệu|trieu|tr)\b)"

_ACCOUNT_NUMBER = re.compile(
    r"\b(?:stk|số\s?tk|so\s?tk|số tài khoản|so tai khoan|tài khoản|tai khoan|tk)\b"
    rf"{_GAP}(?:(?:là|la|số|so|của|cua|{_BANKS})\b{_GAP})*"
    rf"(?P<number>\d(?:[ -]?\d){{5,18}}){_NUMBER_END}{_MONEY_AFTER}",
    re.IGNORECASE,
)
_ID_WITH_KEYWORD = re.compile(
    r"\b(?:cccd|cmnd|cmt|căn cước(?: công dân)?|can cuoc(?: cong dan)?"
    r"|chứng minh(?: nhân dân| thư)?|chung minh(?: nhan dan| thu)?|định danh|dinh danh)\b"
    rf"{_GAP}(?:(?:là|la|số|so)\b{_GAP})?"
    rf"(?P<number>\d(?:[ .-]?\d){{8,11}}){_NUMBER_END}",
    re.IGNORECASE,
)
# Province codes 001-096 open every CCCD number. The "not glued" check follows the first digit
# so the engine can skip to candidate zeros (see nlp.patterns).
_BARE_CITIZEN_ID = re.compile(r"0(?<![\w+.,]0)(?:0[1-9]|[1-8]\d|9[0-6])\d{9}(?![\w]|[.,]\d)")
# PHONE_NUMBER leaves numbers glued to a word alone ("SP0912345678" is a product code), but
# chat writes "sdt0912345678" and "zalo0912345678".
_PHONE_GLUED_TO_KEYWORD = re.compile(
    r"\b(?:sđt|sdt|đt|dt|zalo|tel|hotline|phone)(?P<number>(?:\+84|84|0)\d{8,10})(?![\w])",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# Glued to more digits (directly, or by "." or "-") it is part of a longer code; after a space
# it is another number ("4111 1111 1111 1111 0912345678" is a card and a phone).
_CARD_NUMBER = re.compile(r"\d(?<![\w+.,]\d)(?<!\d[.-]\d)\d{3}(?:[ .-]?\d{4}){3}(?![\w]|[.-]\d)")


@dataclass(frozen=True, slots=True)
class Redaction:
    """A redacted text and how many items of each kind were replaced (keys: :data:`TOKENS`)."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies: "4111111111111111" -> True."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _replace_number_group(token: str, counts: Counter[str]) -> Callable[[re.Match[str]], str]:
    """Replace only the ``number`` group: the keyword before it stays readable."""

    def replace(match: re.Match[str]) -> str:
        counts[token] += 1
        start = match.start("number") - match.start()
        return match.group()[:start] + token

    return replace


def _replace_card(counts: Counter[str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        if not luhn_valid(_digits(match.group())):
            return match.group()
        counts[CARD] += 1
        return CARD

    return replace


def _replace_phone(counts: Counter[str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        digits = phone_digits(match)
        if digits is None or digits.startswith(HOTLINE_PREFIXES):
            return match.group()
        counts[PHONE] += 1
        return PHONE

    return replace


def _replace_glued_phone(counts: Counter[str]) -> Callable[[re.Match[str]], str]:
    replace_number = _replace_number_group(PHONE, counts)

    def replace(match: re.Match[str]) -> str:
        if not is_phone_digits(match.group("number").lstrip("+")):
            return match.group()
        return replace_number(match)

    return replace


def _replace_all(token: str, counts: Counter[str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        counts[token] += 1
        return token

    return replace


def redact_with_counts(text: str) -> Redaction:
    """Redact ``text`` and count what was replaced.

    >>> redact_with_counts("CCCD: 001098012345, sđt 0912.345.678").counts
    {'[CCCD]': 1, '[SĐT]': 1}
    """
    if not isinstance(text, str):
        raise InputError(f"redact expects str, got {type(text).__name__}")
    counts: Counter[str] = Counter()
    # Keyword patterns need one spelling of "số", whatever the input's Unicode form.
    text = unicodedata.normalize("NFC", text)
    # A redaction can free its neighbour: in "0912.345.678+84 912 345 678" the second number is
    # glued to a digit, so not a phone, until the first becomes [SĐT]. Passes repeat until one
    # changes nothing, so redacting a redacted text changes nothing; the bound keeps a hostile
    # chain of glued numbers linear.
    for _ in range(MAX_PASSES):
        before = counts.total()
        text = _redact_once(text, counts)
        if counts.total() == before:
            break
    return Redaction(text, {token: counts[token] for token in TOKENS if counts[token]})


def _redact_once(text: str, counts: Counter[str]) -> str:
    # Order matters: e-mails may hold digit runs, and numbers after a keyword would otherwise be
    # read as phones ("STK 0912345678"); cards go before IDs and phones, whose shapes they hold.
    if "@" in text:
        text = EMAIL_ADDRESS.sub(_replace_all(EMAIL, counts), text)
    if _DIGIT.search(text):
        text = _ACCOUNT_NUMBER.sub(_replace_number_group(ACCOUNT, counts), text)
        text = _ID_WITH_KEYWORD.sub(_replace_number_group(NATIONAL_ID, counts), text)
        text = _CARD_NUMBER.sub(_replace_card(counts), text)
        text = _BARE_CITIZEN_ID.sub(_replace_all(NATIONAL_ID, counts), text)
        text = PHONE_NUMBER.sub(_replace_phone(counts), text)
        text = _PHONE_GLUED_TO_KEYWORD.sub(_replace_glued_phone(counts), text)
    return text


def redact(text: str) -> str:
    """``text`` with phone numbers, e-mails, ID, card and account numbers replaced.

    >>> redact("Liên hệ chị Lan 0912345678, giá 1.200.000đ")
    'Liên hệ chị Lan [SĐT], giá 1.200.000đ'
    """
    return redact_with_counts(text).text


def redact_many(texts: Iterable[_T]) -> list[_T]:
    """Redact every string, in order; other items (None, NaN: empty cells) come back unchanged."""
    return [cast(_T, redact(text)) if isinstance(text, str) else text for text in texts]
