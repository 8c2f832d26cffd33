import doctest
from decimal import Decimal

import nlp.markdown
from nlp.markdown import markdown_table


def test_header_separator_and_one_line_per_row() -> None:
    table = markdown_table(["a", "b c"], [("1", "2"), ("3", "4")])

    assert table.split("\n") == [
        "| a | b c |",
        "|---|---|",
        "| 1 | 2 |",
        "| 3 | 4 |",
    ]


def test_separator_has_one_column_per_header() -> None:
    for count in (1, 2, 5, 13):
        headers = [f"h{i}" for i in range(count)]

        separator = markdown_table(headers, []).split("\n")[1]

        assert separator == "|" + "---|" * count


def test_no_rows_gives_header_and_separator_only() -> None:
    assert markdown_table(["x", "y"], []) == "| x | y |\n|---|---|"


def test_mixed_cells_render_with_str() -> None:
    table = markdown_table(
        ["str", "int", "float", "none", "bool", "decimal"],
        [("gold", 1234, 0.5, None, True, Decimal("1.10"))],
    )

    assert table.split("\n")[2] == "| gold | 1234 | 0.5 | None | True | 1.10 |"


def test_rows_may_be_any_iterable_of_sequences() -> None:
    rows = ([name, len(name)] for name in ("ab", "cde"))

    assert markdown_table(["name", "len"], rows).split("\n")[2:] == ["| ab | 2 |", "| cde | 3 |"]


def test_no_trailing_newline() -> None:
    assert not markdown_table(["a"], [("1",)]).endswith("\n")


def test_docstring_example() -> None:
    result = doctest.testmod(nlp.markdown)

    assert result.attempted > 0
    assert result.failed == 0
