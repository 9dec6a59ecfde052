from __future__ import annotations

from decimal import Decimal

import pytest

from fedinet.crypto import sfv


def test_dictionary_round_trip_keeps_order_and_parameters() -> None:
    text = 'a=1, b=?0, c, d=(1 "two" :AAE=: tok);p=2.5, e="q\\"uote\\\\";x;y=-3, f=*t/k'
    members = sfv.parse_dictionary(text)
    assert list(members) == ["a", "b", "c", "d", "e", "f"]
    assert members["a"] == sfv.Item(1)
    assert members["b"] == sfv.Item(False)
    assert members["c"] == sfv.Item(True)
    inner = members["d"]
    assert isinstance(inner, sfv.InnerList)
    assert [i.value for i in inner.items] == [1, "two", b"\x00\x01", sfv.Token("tok")]
    assert inner.params == {"p": Decimal("2.5")}
    assert members["e"] == sfv.Item('q"uote\\', {"x": True, "y": -3})
    assert members["f"] == sfv.Item(sfv.Token("*t/k"))
    assert sfv.serialize_dictionary(members) == text


def test_lenient_whitespace_and_missing_base64_padding() -> None:
    assert sfv.parse_dictionary("  a=1 ,\tb=:AAE:  ") == {
        "a": sfv.Item(1),
        "b": sfv.Item(b"\x00\x01"),
    }
    assert sfv.parse_list("a, (b c);x, 3") == [
        sfv.Item(sfv.Token("a")),
        sfv.InnerList((sfv.Item(sfv.Token("b")), sfv.Item(sfv.Token("c"))), {"x": True}),
        sfv.Item(3),
    ]
    assert sfv.parse_item('"@query-param";name="Pet"') == sfv.Item("@query-param", {"name": "Pet"})


@pytest.mark.parametrize(
    "text",
    [
        "A=1",
        "a=1,",
        "a=1 b=2",
        'a="unterminated',
        'a="bad\\escape"',
        "a=:not base64!:",
        "a=?2",
        "a=1234567890123456",
        "a=1.2345",
        "a=(1 2",
        "a=(1,2)",
        "a=@1",
    ],
)
def test_parse_errors(text: str) -> None:
    with pytest.raises(ValueError, match="structured field"):
        sfv.parse_dictionary(text)


def test_serialize_rejects_unrepresentable_values() -> None:
    with pytest.raises(ValueError):
        sfv.serialize_bare_item("tab\t")
    with pytest.raises(ValueError):
        sfv.serialize_bare_item(10**15)
    with pytest.raises(ValueError):
        sfv.serialize_bare_item(sfv.Token("1abc"))
    with pytest.raises(ValueError):
        sfv.serialize_dictionary({"Bad": sfv.Item(1)})
    assert sfv.serialize_bare_item(Decimal("1.50")) == "1.5"
    assert sfv.serialize_bare_item(Decimal("2")) == "2.0"
