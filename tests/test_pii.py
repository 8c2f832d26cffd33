"""PII redaction (nlp/pii.py): what is replaced, by which token, and what must stay."""

from __future__ import annotations

import doctest
import math
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nlp.pii
from nlp.errors import InputError
from nlp.normalize import normalize
from nlp.pii import TOKENS, luhn_valid, redact, redact_many, redact_with_counts

PHONES = [
    ("Gọi em 0912 345 678 nhé", "Gọi em [SĐT] nhé"),
    ("0912.345.678", "[SĐT]"),
    ("0912345678", "[SĐT]"),
    ("0912-345-678", "[SĐT]"),
    ("+84 912 345 678", "[SĐT]"),
    ("+84912345678", "[SĐT]"),
    ("84912345678", "[SĐT]"),
    ("hotline chi nhánh 028 3823 4567", "hotline chi nhánh [SĐT]"),
    ("(028) 38234567", "[SĐT]"),
    ("024.3826.5678 hoặc 0987654321", "[SĐT] hoặc [SĐT]"),
    ("sđt: 0912345678.", "sđt: [SĐT]."),
    ("0912345678/0987654321", "[SĐT]/[SĐT]"),
    ("0912345678,0987654321", "[SĐT],[SĐT]"),
]
PHONES_GLUED_TO_A_KEYWORD = [
    ("sdt0912345678", "sdt[SĐT]"),
    ("Zalo0912345678 nha", "Zalo[SĐT] nha"),
    ("SĐT+84912345678", "SĐT[SĐT]"),
]
EMAILS = [
    ("mail: lan.nguyen@gmail.com", "mail: [EMAIL]"),
    ("Nguyen_Van.A+shop@congty.com.vn", "[EMAIL]"),
    ("LIEN HE ABC@YAHOO.COM.VN", "LIEN HE [EMAIL]"),
    ("0912345678@gmail.com", "[EMAIL]"),
    ("nguyễn.văn@gmail.com", "[EMAIL]"),
]
NATIONAL_IDS = [
    ("CCCD: 001098012345", "CCCD: [CCCD]"),
    ("cccd 001 098 012 345", "cccd [CCCD]"),
    ("Căn cước công dân số 079203001234", "Căn cước công dân số [CCCD]"),
    ("can cuoc 079203001234", "can cuoc [CCCD]"),
    ("CMND 123456789", "CMND [CCCD]"),
    ("số CMND là 012345678", "số CMND là [CCCD]"),
    ("cmnd: 025.123.456", "cmnd: [CCCD]"),
    ("Chứng minh nhân dân: 123456789", "Chứng minh nhân dân: [CCCD]"),
    ("CMND/CCCD: 012345678", "CMND/CCCD: [CCCD]"),
    ("mã định danh 001098012345", "mã định danh [CCCD]"),
    # A bare 12-digit run that opens with a province code (001-096) is a CCCD.
    ("Em gửi 001098012345 rồi", "Em gửi [CCCD] rồi"),
]
CARDS = [
    ("4111 1111 1111 1111", "[THẺ]"),
    ("4111111111111111", "[THẺ]"),
    ("4111-1111-1111-1111", "[THẺ]"),
    ("thẻ 5555 5555 5555 4444 bị trừ tiền", "thẻ [THẺ] bị trừ tiền"),
    ("thẻ Napas 9704 3600 0012 3453", "thẻ Napas [THẺ]"),
    ("4111 1111 1111 1111 0912345678", "[THẺ] [SĐT]"),
    ("0912345678 4111 1111 1111 1111", "[SĐT] [THẺ]"),
]
ACCOUNTS = [
    ("STK: 19031234567890 Techcombank", "STK: [STK] Techcombank"),
    ("stk vcb 0011004123456", "stk vcb [STK]"),
    ("Số tài khoản là 123 456 789 012", "Số tài khoản là [STK]"),
    # Without its keyword this would be a phone number.
    ("Số TK: 0123456789", "Số TK: [STK]"),
    ("chuyển vào tk 19036688999 giúp em", "chuyển vào tk [STK] giúp em"),
    ("so tai khoan: 0071000123456 (Vietcombank)", "so tai khoan: [STK] (Vietcombank)"),
    ("STK ngân hàng MB 0912345678", "STK ngân hàng MB [STK]"),
    ("Số tài khoản: 123456789 ACB", "Số tài khoản: [STK] ACB"),
]
MIXED = [
    (
        "Chị Lan, SĐT 0987 654 321, mail lan@abc.vn, STK 0123456789 VCB, CCCD 001098012345. "
        "Đơn 1.200.000đ giao 2 tiếng chưa tới!",
        "Chị Lan, SĐT [SĐT], mail [EMAIL], STK [STK] VCB, CCCD [CCCD]. "
        "Đơn 1.200.000đ giao 2 tiếng chưa tới!",
    ),
]
REDACTED = PHONES + PHONES_GLUED_TO_A_KEYWORD + EMAILS + NATIONAL_IDS + CARDS + ACCOUNTS + MIXED

KEPT = [
    # prices and quantities
    "giá 150k",
    "giá 1.200.000đ",
    "giá 199000",
    "tổng 1.000.000.000 đồng",
    "2tr5 một chiếc",
    "giảm 50%",
    "5 sao",
    "đợi 2 tiếng 30 phút",
    "iPhone 15 Pro Max 256GB",
    "size 38, cao 1m65 nặng 55kg",
    # dates and times
    "ngày 12/05/2024",
    "2024-05-12",
    "12.05.2024 lúc 10:30",
    "năm 2019 và 2020",
    # order codes and numbers of normal length
    "mã đơn 230512ABCD",
    "đơn hàng #123456789",
    "mã đơn 123456789012",
    "mã vận đơn SPXVN0123456789",
    "SP0912345678",
    "123456789",
    "091234567",
    "09123456789012",
    "000000000000",
    # business hotlines identify a company, not a person
    "Tổng đài 1900 6035",
    "hotline 1800 1234",
    # a 16-digit number that fails the Luhn check is not a card
    "4111 1111 1111 1112",
    # keywords without a number, or with an amount
    "tài khoản bị trừ 1500000đ",
    "tài khoản bị trừ 1500000 đồng",
    "tài khoản bị trừ 1.500.000",
    "tài khoản bị khóa 2 lần",
    "STK 12345",
    "CCCD cấp ngày 12/05/2021",
    "làm CCCD gắn chip mất 2 tuần",
    # an @ that is not an e-mail
    "@shop ơi",
    "a@b",
    "",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("text", [text for text, _ in REDACTED] + KEPT)
def test_redact_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_tokens_are_stable() -> None:
    # Stored comments carry these tokens: changing one is a data migration.
    assert TOKENS == ("[EMAIL]", "[STK]", "[CCCD]", "[THẺ]", "[SĐT]")


def test_counts_per_kind() -> None:
    redaction = redact_with_counts(MIXED[0][0])
    assert redaction.text == MIXED[0][1]
    assert redaction.counts == {"[EMAIL]": 1, "[STK]": 1, "[CCCD]": 1, "[SĐT]": 1}
    assert redaction.total == 4
    assert redact_with_counts("giá 150k").counts == {}


def test_redact_many_keeps_order_and_leaves_empty_cells() -> None:
    nan = math.nan
    texts: list[object] = ["gọi 0912345678", None, nan, 7, "ok", "a@b.com"]
    redacted = redact_many(texts)
    assert redacted[0] == "gọi [SĐT]"
    assert redacted[1] is None
    assert redacted[2] is nan
    assert redacted[3:] == [7, "ok", "[EMAIL]"]


def test_nfd_input_is_matched_and_returned_in_nfc() -> None:
    text = unicodedata.normalize("NFD", "Số tài khoản 0123456789, căn cước 001098012345")
    assert redact(text) == "Số tài khoản [STK], căn cước [CCCD]"


@pytest.mark.parametrize("value", [None, 12, b"0912345678", ["0912345678"]])
def test_redact_refuses_what_is_not_text(value: object) -> None:
    with pytest.raises(InputError):
        redact(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("5555555555554444", True),
        ("9704360000123453", True),
        ("4111111111111112", False),
        ("1234567812345678", False),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(("text", "expected"), PHONES)
def test_normaliser_masks_the_phones_redaction_replaces(text: str, expected: str) -> None:
    # One pattern for both: a number the models see as <phone> is the one storage redacts.
    assert normalize(text).count("<phone>") == expected.count("[SĐT]")


def test_docstring_examples() -> None:
    assert doctest.testmod(nlp.pii).failed == 0


texts_without_digits_or_at = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Nd"), blacklist_characters="@")
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(texts_without_digits_or_at)
def test_text_without_digits_or_at_is_only_put_in_nfc(text: str) -> None:
    assert redact(text) == unicodedata.normalize("NFC", text)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([text for text, _ in REDACTED] + KEPT),
            st.text(alphabet="0123456789 .-+()@:/abcđkstmnd", max_size=20),
        ),
        max_size=6,
    ).map(" ".join)
)
def test_redaction_of_number_soup_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
