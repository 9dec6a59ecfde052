"""Header grouping shared by the signature modules."""

from __future__ import annotations

from fedinet.crypto import HeaderMap, header_map
from fedinet.crypto._common import combined_value


def test_headers_are_grouped_by_lower_cased_name_in_order() -> None:
    grouped = header_map([("Host", "a.example"), ("X-A", "1"), ("x-a", "2"), (" Date ", "d")])
    assert isinstance(grouped, HeaderMap)
    assert grouped == {"host": ["a.example"], "x-a": ["1", "2"], "date": ["d"]}
    assert header_map({"Host": "a.example"}) == {"host": ["a.example"]}


def test_a_header_map_is_taken_as_it_is() -> None:
    grouped = header_map([("Host", "a.example")])
    assert header_map(grouped) is grouped
    # A plain dict of lists is not a HeaderMap: it is read as name -> value pairs.
    assert header_map({"Host": "a.example"}) is not grouped


def test_values_are_trimmed_unfolded_and_joined() -> None:
    assert combined_value([" one \t"]) == "one"
    assert combined_value(["one", " two "]) == "one, two"
    assert combined_value(["a\r\n  b", "c\n\td"]) == "a b, c d"
    assert combined_value(["line\rstays"]) == "line\rstays"
