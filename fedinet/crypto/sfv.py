"""RFC 8941 structured field values: the subset HTTP signatures and digests need.

Parsing errors raise ``ValueError``; callers turn them into the matching fedinet error.
Decimals are carried as :class:`decimal.Decimal`.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "BareItem",
    "InnerList",
    "Item",
    "Member",
    "Params",
    "Token",
    "parse_dictionary",
    "parse_item",
    "parse_list",
    "serialize_bare_item",
    "serialize_dictionary",
    "serialize_item",
    "serialize_list",
    "serialize_member",
    "serialize_params",
]


@dataclass(frozen=True)
class Token:
    """A structured-field token (an unquoted identifier such as ``sha-256`` or ``*``)."""

    value: str


BareItem = bool | int | Decimal | str | bytes | Token
Params = dict[str, BareItem]


@dataclass(frozen=True)
class Item:
    """A bare item with its parameters."""

    value: BareItem
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class InnerList:
    """A parenthesised list of items with its own parameters."""

    items: tuple[Item, ...]
    params: Params = field(default_factory=dict)


Member = Item | InnerList

_KEY_START = set(string.ascii_lowercase + "*")
_KEY_CHARS = set(string.ascii_lowercase + string.digits + "_-.*")
_TCHAR = set(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:/")
_B64 = set(string.ascii_letters + string.digits + "+/=")
_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*\Z")
_TOKEN_RE = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*\Z")


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def eof(self) -> bool:
        return self.i >= len(self.s)

    def fail(self, what: str) -> ValueError:
        return ValueError(f"structured field: {what} at position {self.i} of {self.s!r}")

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.i += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and not self.eof():
            self.i += 1

    def key(self) -> str:
        if self.peek() not in _KEY_START or self.eof():
            raise self.fail("expected a key")
        start = self.i
        while not self.eof() and self.peek() in _KEY_CHARS:
            self.i += 1
        return self.s[start : self.i]

    def params(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.i += 1
            self.skip_sp()
            name = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.i += 1
                value = self.bare_item()
            params[name] = value
        return params

    def item(self) -> Item:
        value = self.bare_item()
        return Item(value, self.params())

    def member(self) -> Member:
        if self.peek() == "(":
            return self.inner_list()
        return self.item()

    def inner_list(self) -> InnerList:
        self.i += 1  # "("
        items: list[Item] = []
        while not self.eof():
            self.skip_sp()
            if self.peek() == ")":
                self.i += 1
                return InnerList(tuple(items), self.params())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected a space or ')' in an inner list")
        raise self.fail("unterminated inner list")

    def bare_item(self) -> BareItem:
        c = self.peek()
        if c == "-" or (c.isascii() and c.isdigit()):
            return self.number()
        if c == '"':
            return self.string()
        if c == ":":
            return self.byte_sequence()
        if c == "?":
            return self.boolean()
        if c == "*" or (c.isascii() and c.isalpha()):
            return self.token()
        raise self.fail("expected an item")

    def number(self) -> int | Decimal:
        start = self.i
        if self.peek() == "-":
            self.i += 1
        digits_start = self.i
        while not self.eof() and self.peek() in string.digits:
            self.i += 1
        int_part = self.s[digits_start : self.i]
        if not int_part:
            raise self.fail("expected a digit")
        if self.peek() != ".":
            if len(int_part) > 15:
                raise self.fail("integer too long")
            return int(self.s[start : self.i])
        if len(int_part) > 12:
            raise self.fail("decimal too long")
        self.i += 1
        frac_start = self.i
        while not self.eof() and self.peek() in string.digits:
            self.i += 1
        if not 1 <= self.i - frac_start <= 3:
            raise self.fail("decimal needs one to three fractional digits")
        return Decimal(self.s[start : self.i])

    def string(self) -> str:
        self.i += 1
        out: list[str] = []
        while not self.eof():
            c = self.s[self.i]
            self.i += 1
            if c == "\\":
                nxt = self.peek()
                if nxt not in ('"', "\\") or self.eof():
                    raise self.fail("bad escape in string")
                out.append(nxt)
                self.i += 1
            elif c == '"':
                return "".join(out)
            elif not " " <= c <= "~":
                raise self.fail("control or non-ASCII character in string")
            else:
                out.append(c)
        raise self.fail("unterminated string")

    def token(self) -> Token:
        start = self.i
        self.i += 1
        while not self.eof() and self.peek() in _TCHAR:
            self.i += 1
        return Token(self.s[start : self.i])

    def byte_sequence(self) -> bytes:
        self.i += 1
        end = self.s.find(":", self.i)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        chunk = self.s[self.i : end]
        if not set(chunk) <= _B64:
            raise self.fail("bad character in byte sequence")
        self.i = end + 1
        stripped = chunk.rstrip("=")
        try:
            return base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
        except binascii.Error as exc:
            raise self.fail(f"bad base64 in byte sequence ({exc})") from None

    def boolean(self) -> bool:
        self.i += 1
        c = self.peek()
        if c not in ("0", "1") or self.eof():
            raise self.fail("bad boolean")
        self.i += 1
        return c == "1"

    def finish(self) -> None:
        self.skip_sp()
        if not self.eof():
            raise self.fail("unexpected trailing characters")


def _start(text: str) -> _Parser:
    parser = _Parser(text)
    parser.skip_sp()
    return parser


def parse_item(text: str) -> Item:
    """Parse an Item field value such as ``"@query-param";name="Pet"``."""
    parser = _start(text)
    item = parser.item()
    parser.finish()
    return item


def parse_list(text: str) -> list[Member]:
    """Parse a List field value."""
    parser = _start(text)
    members: list[Member] = []
    while not parser.eof():
        members.append(parser.member())
        parser.skip_ows()
        if parser.eof():
            return members
        if parser.peek() != ",":
            raise parser.fail("expected ','")
        parser.i += 1
        parser.skip_ows()
        if parser.eof():
            raise parser.fail("trailing comma")
    return members


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse a Dictionary field value; order is kept and a repeated key keeps the last value."""
    parser = _start(text)
    result: dict[str, Member] = {}
    while not parser.eof():
        name = parser.key()
        if parser.peek() == "=":
            parser.i += 1
            result[name] = parser.member()
        else:
            result[name] = Item(True, parser.params())
        parser.skip_ows()
        if parser.eof():
            return result
        if parser.peek() != ",":
            raise parser.fail("expected ','")
        parser.i += 1
        parser.skip_ows()
        if parser.eof():
            raise parser.fail("trailing comma")
    return result


def serialize_bare_item(value: BareItem) -> str:
    """Serialise one bare item."""
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) >= 10**15:
            raise ValueError(f"integer out of range: {value}")
        return str(value)
    if isinstance(value, Decimal):
        rounded = value.quantize(Decimal("0.001"))
        text = format(rounded, "f").rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, str):
        if any(not " " <= c <= "~" for c in value):
            raise ValueError(f"string not serialisable: {value!r}")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if not _TOKEN_RE.match(value.value):
        raise ValueError(f"token not serialisable: {value.value!r}")
    return value.value


def serialize_params(params: Params) -> str:
    """Serialise parameters (``;key=value`` …, ``;key`` for true)."""
    out: list[str] = []
    for name, value in params.items():
        if not _KEY_RE.match(name):
            raise ValueError(f"bad parameter key: {name!r}")
        out.append(f";{name}" if value is True else f";{name}={serialize_bare_item(value)}")
    return "".join(out)


def serialize_item(item: Item) -> str:
    """Serialise an item with its parameters."""
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_member(member: Member) -> str:
    """Serialise an item or an inner list."""
    if isinstance(member, InnerList):
        inner = " ".join(serialize_item(i) for i in member.items)
        return f"({inner}){serialize_params(member.params)}"
    return serialize_item(member)


def serialize_list(members: list[Member]) -> str:
    """Serialise a list (``member, …``)."""
    return ", ".join(serialize_member(m) for m in members)


def serialize_dictionary(members: dict[str, Member]) -> str:
    """Serialise a dictionary (``key=member, …``)."""
    out: list[str] = []
    for name, member in members.items():
        if not _KEY_RE.match(name):
            raise ValueError(f"bad dictionary key: {name!r}")
        if isinstance(member, Item) and member.value is True:
            out.append(name + serialize_params(member.params))
        else:
            out.append(f"{name}={serialize_member(member)}")
    return ", ".join(out)
