"""The normaliser: one form for corpus text and live comments (nlp/normalize.py)."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

import pytest

from nlp.errors import DataError, InputError
from nlp.normalize import (
    PLACEHOLDERS,
    Normalizer,
    has_diacritics,
    normalize,
    strip_diacritics,
)
from nlp.paths import corpora_dir, lexicon_dir

CASES = [
    # plain comments
    ("Đồ ăn ngon, phục vụ chậm.", "đồ ăn ngon , phục vụ chậm ."),
    ("  Nhân viên   nhiệt tình\n\tvà vui vẻ  ", "nhân viên nhiệt tình và vui vẻ"),
    ("Giao hàng nhanh!!! Đóng gói cẩn thận???", "giao hàng nhanh ! đóng gói cẩn thận ?"),
    ("Tạm được; giá hơi cao: 3/5 sao…", "tạm được ; giá hơi cao : 3/5 sao ."),
    # no diacritics stays unaccented
    ("Dung dc sp tot cam on shop", "dung được sản phẩm tot cam on shop"),
    ("phong sach se, nhan vien than thien", "phong sach se , nhan vien than thien"),
    # teencode and emoji
    ("Ko bít j lun :((", "không biết gì luôn <emo_neg>"),
    ("sp dc, nv tư vấn nhiệt tình 👍👍👍", "sản phẩm được , nhân viên tư vấn nhiệt tình <emo_pos>"),
    ("hok thik lắm 😡😡 wa tệ", "không thích lắm <emo_neg> quá tệ"),
    ("mn ơi ship nhanh lắm, oke lun ❤️❤️", "mọi người ơi ship nhanh lắm , ok luôn <emo_pos>"),
    ("ko bt nữa, sp bt thôi", "không biết nữa , sản phẩm bình thường thôi"),
    ("các bn cho hỏi bn tiền", "các bạn cho hỏi bao nhiêu tiền"),
    ("mua 2 kg, kg ngon", "mua 2 kg , không ngon"),
    ("ok, okela, oki", "ok , ok , ok"),
    ("hàng đẹp :) :))) =)) :v", "hàng đẹp <emo_pos> <emo_laugh>"),
    ("chán -_- T_T :'(", "chán <emo_neg>"),
    ("đẹp <3 ^^ :D 😂", "đẹp <emo_pos> <emo_laugh>"),
    ("ổn 🙂 🤔", "ổn"),
    ("lúc 10:30 sáng", "lúc 10:30 sáng"),
    # mixed Vietnamese / English
    ("Pin trâu, camera OK, performance good", "pin trâu , camera ok , performance good"),
    ("App UI đẹp nhưng hay bị LAG", "app ui đẹp nhưng hay bị lag"),
    # repeats
    ("ngon quáaaa", "ngon quá"),
    ("ngonnnn đẹppp hiiii", "ngon đẹp hi"),
    ("ngon quaaaa", "ngon qua"),
    ("đẹpp nhéee", "đẹp nhé"),
    ("nồi xoong boong tàu", "nồi xoong boong tàu"),
    # abbreviations without vowels are not elongation
    ("Làm CCCD gắn chip mất 2 tuần", "làm cccd gắn chip mất 2 tuần"),
    ("về hưu cứu hộ", "về hưu cứu hộ"),
    ("mã 1000 số 2222 phòng 1100", "mã 1000 số 2222 phòng 1100"),
    # tone placement: the style most corpora use
    ("hoà bình, thuỷ tinh, sức khoẻ, hoá đơn", "hòa bình , thủy tinh , sức khỏe , hóa đơn"),
    ("tuỳ, huỷ, quý, hoàn toàn", "tùy , hủy , quý , hoàn toàn"),
    # corpus formats
    ("mô_tả sản_phẩm rất đúng", "mô tả sản phẩm rất đúng"),
    ("thầy wzjwz288 nhiệt tình colonsmile .", "thầy <name> nhiệt tình <emo_pos> ."),
    ("quá khắt khe colonsad dotdotdot", "quá khắt khe <emo_neg> ."),
    ("nói chung 10 fraction 10 , doubledot slide", "nói chung 10/10 , : slide"),
    ("xem trên coursedotuitdotedudotvn nhé", "xem trên <url> nhé"),
    # html
    ("Tốt &amp; rẻ<br>Sẽ quay lại</p>", "tốt rẻ sẽ quay lại"),
    ("&lt;3 &quot;ngon&quot;", "<emo_pos> ngon"),
]

ENTITIES = [
    ("gọi 0912 345 678 nhé", "gọi <phone> nhé"),
    ("hotline +84 912345678", "hotline <phone>"),
    ("tổng đài 028.3822.1234.", "tổng đài <phone> ."),
    ("số (028) 3822 1234 hoặc 0912345678", "số <phone> hoặc <phone>"),
    ("gọi 1900 6035", "gọi <phone>"),
    ("mã đơn 123456789012", "mã đơn 123456789012"),
    ("năm 2019 và 2020", "năm 2019 và 2020"),
    ("mail cho shop: abc.xyz@gmail.com", "mail cho shop : <email>"),
    ("xem https://tiki.vn/ao-thun?id=1&x=2.", "xem <url> ."),
    ("web www.thegioididong.com/dtdd", "web <url>"),
    ("mua trên shopee.vn", "mua trên <url>"),
]

MONEY_CASES = [
    ("giá 150k", "giá <money>"),
    ("giá 150 k thôi", "giá <money> thôi"),
    ("hết 2tr", "hết <money>"),
    ("2tr5 một chiếc", "<money> một chiếc"),
    ("35.000đ", "<money>"),
    ("35.000 ₫", "<money>"),
    ("35000d", "<money>"),
    ("1,5 triệu", "<money>"),
    ("200 nghìn", "<money>"),
    ("50 ngàn", "<money>"),
    ("10$ hoặc $10", "<money> hoặc <money>"),
    ("20 usd", "<money>"),
    ("99k/tháng", "<money>"),
    ("khoảng 150-200k", "khoảng <money>"),
    ("1 tỷ đồng", "<money> đồng"),
    ("nặng 150kg", "nặng 150kg"),
    ("phim 3d", "phim 3d"),
    ("pin 88%", "pin 88%"),
    ("mua 1 đồng hồ, 50 đồng thôi", "mua 1 đồng hồ , <money> thôi"),
    # symbols dropped between a number and its unit must not leave a half-masked amount
    ("buffet 250/ngàn người", "buffet <money> người"),
    ("zalo 0#985133744", "zalo <phone>"),
    ("ra..1 triệu thôi,990k", "ra . <money> thôi , <money>"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES + ENTITIES + MONEY_CASES)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), CASES + ENTITIES + MONEY_CASES)
def test_normalize_is_idempotent(raw: str, expected: str) -> None:
    once = normalize(raw)
    assert normalize(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "Nhân viên phục vụ rất chu đáo",
        "Điện thoại pin yếu, hay bị đơ",
        "Giá cả hợp lý, chất lượng ổn",
        "Thuỷ tinh, hoà bình",
    ],
)
def test_nfd_input_equals_nfc_input(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != unicodedata.normalize("NFC", text)
    assert normalize(nfd) == normalize(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ngon\u200bquá", "ngonquá"),
        ("\ufeffsản phẩm tốt", "sản phẩm tốt"),
        ("giá\u00a0rẻ", "giá rẻ"),
        ("tốt\u200e \u200f\u202eđẹp", "tốt đẹp"),
        ("👍🏻👍🏽 like", "<emo_pos> like"),
        ("ok\u2028ổn\u0085nhé", "ok ổn nhé"),
    ],
)
def test_invisible_and_space_characters(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Đồ ăn ngon", "Do an ngon"),
        ("ĐẸP QUÁ", "DEP QUA"),
        ("Thuỷ, hòa, khỏe, đường", "Thuy, hoa, khoe, duong"),
        (unicodedata.normalize("NFD", "Tiếng Việt"), "Tieng Viet"),
        ("plain ascii 123", "plain ascii 123"),
        ("", ""),
    ],
)
def test_strip_diacritics(raw: str, expected: str) -> None:
    assert strip_diacritics(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ngon", False),
        ("ngọn", True),
        ("đi", True),
        ("Đi", True),
        (unicodedata.normalize("NFD", "ngọn"), True),
        ("", False),
        ("café", True),
        ("naïve señor", False),
    ],
)
def test_has_diacritics(text: str, expected: bool) -> None:
    assert has_diacritics(text) is expected


HOSTILE = [
    "",
    " ",
    "\t\n\r  \u3000",
    "\x00\x00abc\x00",
    "\ud800",
    "a\udfffb",
    "\u200f\u202e\u202b",
    "<<<>>>",
    "<script>alert(1)</script>",
    "&#0; &#xd800; &bogus;",
    ":" * 10_000,
    "😀" * 10_000,
    "a" * 100_000,
    "ab" * 100_000,
    "1." * 100_000,
    "0" * 100_000,
    "a." * 100_000 + "com",
    "x@" * 50_000,
    "ngon quá " * 120_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_does_not_crash(text: str) -> None:
    started = time.perf_counter()
    result = normalize(text)
    elapsed = time.perf_counter() - started
    result.encode("utf-8")  # no lone surrogates survive
    assert result == result.strip()
    assert "  " not in result
    # Not a benchmark: a generous bound that only catastrophic regex backtracking would break.
    assert elapsed < 10


def test_whitespace_only_is_empty() -> None:
    assert normalize(" \t\n\u00a0\u200b ") == ""


def test_non_string_is_rejected() -> None:
    with pytest.raises(InputError):
        normalize(None)  # type: ignore[arg-type]


def test_normalize_many_keeps_order() -> None:
    normalizer = Normalizer()
    texts = ["Ko ngon", "", "Tốt 👍"]
    assert normalizer.normalize_many(texts) == ["không ngon", "", "tốt <emo_pos>"]
    assert normalizer.normalize_many(iter(texts)) == [normalize(text) for text in texts]


def test_output_tokens_are_words_placeholders_or_clause_punctuation() -> None:
    text = "Sp 👍 giá 99k, gọi 0912345678 @@ ### (xem) [ảnh] {x} ~~ ** // \\ | ok!"
    for token in normalize(text).split(" "):
        assert token in PLACEHOLDERS or token in set(",.!?;:") or token.isalnum(), token


def _read_rows(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows[1:]  # the first non-comment line is the header


def test_teencode_expansions_are_fixed_points() -> None:
    for cells in _read_rows(lexicon_dir() / "teencode.tsv"):
        expansion = cells[1]
        if expansion not in {"-", "="}:
            assert normalize(expansion) == expansion, cells


def test_lexicon_files_are_nfc() -> None:
    for name in ("teencode.tsv", "emoji.tsv"):
        text = (lexicon_dir() / name).read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), name


def test_custom_lexicon_dir(tmp_path: Path) -> None:
    (tmp_path / "teencode.tsv").write_text(
        "# test\ntoken\texpansion\tafter\nxyz\tđược\n", encoding="utf-8"
    )
    (tmp_path / "emoji.tsv").write_text(
        "# test\nsymbol\ttoken\tnote\n🍕\tpos\tpizza\n:o\tneg\tsurprise\n", encoding="utf-8"
    )
    normalizer = Normalizer(tmp_path)
    assert normalizer.normalize("XYZ 🍕 :ooo ko") == "được <emo_pos> <emo_neg> ko"


@pytest.mark.parametrize(
    ("teencode", "emoji"),
    [
        ("token\texpansion\nko\n", "symbol\ttoken\n"),
        ("token\texpansion\nko\tkhông\nko\tkhông\n", "symbol\ttoken\n"),
        ("token\texpansion\n", "symbol\ttoken\n:)\thappy\n"),
        ("token\texpansion\n", "symbol\ttoken\n:)\tpos\n:))\tneg\n"),
    ],
)
def test_malformed_lexicon_is_a_data_error(tmp_path: Path, teencode: str, emoji: str) -> None:
    (tmp_path / "teencode.tsv").write_text(teencode, encoding="utf-8")
    (tmp_path / "emoji.tsv").write_text(emoji, encoding="utf-8")
    with pytest.raises(DataError):
        Normalizer(tmp_path)


def test_missing_lexicon_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        Normalizer(tmp_path)


@pytest.mark.corpora
def test_real_corpus_comments_are_idempotent() -> None:
    path = corpora_dir() / "uit_visfd" / "Train.csv"
    if not path.is_file():
        pytest.skip(f"corpus not found at {path}")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    normalizer = Normalizer()
    unstable = []
    for line in lines:
        once = normalizer.normalize(line)
        if normalizer.normalize(once) != once:
            unstable.append(line)
    assert not unstable, unstable[:5]
