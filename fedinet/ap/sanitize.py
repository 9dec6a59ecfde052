"""HTML in and out of posts: sanitising what other servers send, and formatting what
local members type.

``sanitize_html`` keeps what Mastodon's strict profile keeps (paragraphs, line breaks,
links, the mention/hashtag microformat spans, simple emphasis, code, quotes and lists) and
drops everything else. The sanitiser is ammonia (via ``nh3``), an HTML5 parser rather than
a pattern matcher, so tricks that rely on how a browser re-parses broken markup do not get
through. Two small rewrites wrap it, both harmless on their own: headings become
``<p><strong>`` before cleaning (as Mastodon does), and links left without an ``href``
after cleaning (``javascript:``, ``data:``, relative URLs …) are replaced by their text.

``text_to_html`` turns a plain-text post into the HTML Mastodon would produce for it,
and ``extract_mentions``/``extract_hashtags`` find what it would link. No I/O here: the
caller resolves mentions to profile URLs first.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from typing import Final
from urllib.parse import quote

import nh3

__all__ = [
    "ALLOWED_CLASSES",
    "ALLOWED_TAGS",
    "LINK_REL",
    "URL_SCHEMES",
    "extract_hashtags",
    "extract_mentions",
    "html_to_text",
    "normalize_hashtag",
    "sanitize_html",
    "text_to_html",
]

ALLOWED_TAGS: Final = frozenset(
    {
        "p",
        "br",
        "a",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
    }
)

ALLOWED_CLASSES: Final = frozenset(
    {"mention", "hashtag", "u-url", "h-card", "invisible", "ellipsis"}
)
"""Classes kept on ``a`` and ``span``: the microformats and link formatting Mastodon uses
for mentions, hashtags and shortened links. Any other class is dropped."""

URL_SCHEMES: Final = frozenset(
    {
        "http",
        "https",
        "mailto",
        "xmpp",
        "matrix",
        "gemini",
        "gopher",
        "magnet",
        "ipfs",
        "ipns",
        "dat",
        "dweb",
        "ssb",
    }
)
"""Link schemes kept: Mastodon's list plus ``mailto`` and ``matrix``. None of them runs
code in a browser. Relative links are dropped (they would point at this server)."""

LINK_REL: Final = "nofollow noopener noreferrer"

# Elements removed together with everything inside them (the rest of the unknown
# elements are unwrapped: their text stays, their markup goes).
_DROP_WITH_CONTENT: Final = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "frame",
        "frameset",
        "noframes",
        "object",
        "embed",
        "noembed",
        "svg",
        "math",
        "title",
        "textarea",
        "select",
        "xmp",
        "plaintext",
    }
)

_CLEANER: Final = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={"a": {"href"}, "ol": {"start", "reversed"}},
    tag_attribute_values={"a": {"translate": {"no"}}, "span": {"translate": {"no"}}},
    allowed_classes={"a": set(ALLOWED_CLASSES), "span": set(ALLOWED_CLASSES)},
    set_tag_attribute_values={"a": {"target": "_blank"}},
    link_rel=LINK_REL,
    url_schemes=set(URL_SCHEMES),
    url_relative="deny",
    strip_comments=True,
)

_HEADING: Final = re.compile(r"<(/?)h[1-6](?=[\s/>])[^>]*>", re.IGNORECASE)
# Runs on the cleaner's output only, where an ``a`` can carry nothing but href, class,
# translate, target and rel, and none of those but href can contain ``>``.
_DEAD_LINK: Final = re.compile(r"<a\b(?![^>]*\bhref=)[^>]*>(.*?)</a>", re.DOTALL)


def _heading(match: re.Match[str]) -> str:
    return "</strong></p>" if match.group(1) else "<p><strong>"


def sanitize_html(html_text: str) -> str:
    """``html_text`` from another server, reduced to what is safe to show.

    Scripts, styles, frames, SVG/MathML, forms and media are removed with their content;
    other unknown elements are unwrapped; event handlers and every attribute not listed
    above go; links keep only an ``href`` with an allowed scheme and get
    ``rel="nofollow noopener noreferrer" target="_blank"``.
    """
    if not html_text:
        return ""
    cleaned = _CLEANER.clean(_HEADING.sub(_heading, html_text))
    return _DEAD_LINK.sub(r"\1", cleaned)


# --------------------------------------------------------------------------- to text

_BLOCKS: Final = frozenset(
    {"div", "blockquote", "li", "ul", "ol", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_SKIPPED: Final = frozenset({"script", "style", "template", "noscript", "title", "textarea"})
_SPACE: Final = re.compile(r"[ \t\r\n\f]+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "pre":
            self._pre += 1
            self.parts.append("\n")
        elif tag == "p" or tag in _BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag == "p":
            self.parts.append("\n\n")
        elif tag in _BLOCKS:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.parts.append(data if self._pre else _SPACE.sub(" ", data))


def html_to_text(html_text: str) -> str:
    """Plain text of an HTML fragment, for search, notifications and content warnings:
    ``<br>`` becomes a newline, paragraphs are separated by a blank line, entities are
    decoded, scripts and styles are dropped with their content."""
    if not html_text:
        return ""
    collector = _TextCollector()
    collector.feed(html_text)
    collector.close()
    text = "".join(collector.parts)
    lines = [line.strip(" \t") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --------------------------------------------------------------------------- from text

_URL: Final = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_MENTION: Final = re.compile(
    r"(?<![\w/@.])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)(?:@([\w.-]*\w))?",
    re.IGNORECASE,
)
_URL_TRAILING: Final = ".,:;!?'\"*"
_URL_DISPLAY_CUTOFF: Final = 30


def _is_tag_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LNM"


def normalize_hashtag(name: str) -> str:
    """The stored form of a hashtag: ``#`` stripped, NFKC, case-folded (``Straße`` →
    ``strasse``); accents are kept; characters other than letters, digits, marks and
    ``_`` are removed. Empty when nothing is left."""
    folded = unicodedata.normalize("NFKC", name.lstrip("#")).casefold()
    return unicodedata.normalize("NFC", "".join(ch for ch in folded if _is_tag_char(ch)))


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = last == ")" and url.count("(") < url.count(")")
        if last in _URL_TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def _hashtags_in(text: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
    i = start
    while True:
        i = text.find("#", i, end)
        if i < 0:
            return
        j = i + 1
        while j < end and _is_tag_char(text[j]):
            j += 1
        name = text[i + 1 : j]
        before = text[i - 1] if i > 0 else " "
        if (
            name
            and not _is_tag_char(before)
            and before not in "/)#&@"
            and unicodedata.category(name[0])[0] != "M"
            and any(c == "_" or unicodedata.category(c)[0] == "L" for c in name)
        ):
            yield i, j, name
        i = max(j, i + 1)


def _tokens(text: str) -> Iterator[tuple[str, int, int, re.Match[str] | str]]:
    """(kind, start, end, detail) of each URL, mention and hashtag, in order."""
    gaps: list[tuple[int, int]] = []
    found: list[tuple[str, int, int, re.Match[str] | str]] = []
    position = 0
    for match in _URL.finditer(text):
        url = _trim_url(match.group(0))
        if len(url) <= len("https://"):
            continue
        start, end = match.start(), match.start() + len(url)
        gaps.append((position, start))
        found.append(("url", start, end, url))
        position = end
    gaps.append((position, len(text)))
    for gap_start, gap_end in gaps:
        for mention in _MENTION.finditer(text, gap_start, gap_end):
            found.append(("mention", mention.start(), mention.end(), mention))
        for tag_start, tag_end, name in _hashtags_in(text, gap_start, gap_end):
            found.append(("hashtag", tag_start, tag_end, name))
    found.sort(key=lambda token: token[1])
    return iter(found)


def _acct(match: re.Match[str]) -> str:
    username, domain = match.group(1), match.group(2)
    return f"{username}@{domain.lower()}" if domain else username


def extract_mentions(text: str) -> list[str]:
    """``user@domain`` (domain lower-cased) or ``user`` for each ``@`` mention in a
    plain-text post, first occurrence first, without repeats (compared case-insensitively).
    Addresses inside URLs and e-mail addresses are not mentions."""
    seen: dict[str, str] = {}
    for kind, _, _, detail in _tokens(text):
        if kind == "mention" and isinstance(detail, re.Match):
            acct = _acct(detail)
            seen.setdefault(acct.lower(), acct)
    return list(seen.values())


def extract_hashtags(text: str) -> list[str]:
    """The normalized names (see :func:`normalize_hashtag`) of the ``#`` hashtags in a
    plain-text post, first occurrence first, without repeats. A hashtag is a run of
    Unicode letters, digits, marks and ``_`` with at least one letter or ``_``, not
    preceded by a letter (``C#`` is not one) nor inside a URL."""
    seen: dict[str, None] = {}
    for kind, _, _, detail in _tokens(text):
        if kind == "hashtag" and isinstance(detail, str):
            name = normalize_hashtag(detail)
            if name:
                seen.setdefault(name, None)
    return list(seen)


def _link_html(url: str) -> str:
    """A link shaped as Mastodon shapes it: scheme (and ``www.``) hidden, the rest cut
    at 30 characters with an ellipsis; the full URL stays in the text."""
    prefix_match = re.match(r"https?://(?:www\.)?", url, re.IGNORECASE)
    prefix = prefix_match.group(0) if prefix_match else ""
    rest = url[len(prefix) :]
    if len(rest) > _URL_DISPLAY_CUTOFF:
        shown = (
            f'<span class="ellipsis">{html.escape(rest[:_URL_DISPLAY_CUTOFF])}</span>'
            f'<span class="invisible">{html.escape(rest[_URL_DISPLAY_CUTOFF:])}</span>'
        )
    else:
        shown = f'<span class="">{html.escape(rest)}</span><span class="invisible"></span>'
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="{LINK_REL}" translate="no">'
        f'<span class="invisible">{html.escape(prefix)}</span>{shown}</a>'
    )


def _inline_html(
    text: str, mentions: Mapping[str, str], tags: Mapping[str, str], base_url: str
) -> str:
    out: list[str] = []
    position = 0
    for kind, start, end, detail in _tokens(text):
        out.append(html.escape(text[position:start]))
        original = text[start:end]
        if kind == "url" and isinstance(detail, str):
            out.append(_link_html(detail))
        elif kind == "mention" and isinstance(detail, re.Match):
            acct = _acct(detail)
            href = mentions.get(acct) or mentions.get(acct.lower())
            if href is None:
                out.append(html.escape(original))
            else:
                out.append(
                    f'<span class="h-card"><a href="{html.escape(href)}" class="u-url mention">'
                    f"@<span>{html.escape(detail.group(1))}</span></a></span>"
                )
        elif kind == "hashtag" and isinstance(detail, str):
            name = normalize_hashtag(detail)
            href = tags.get(name) or f"{base_url}/tags/{quote(name, safe='')}"
            out.append(
                f'<a href="{html.escape(href)}" class="mention hashtag" rel="tag">'
                f"#<span>{html.escape(detail)}</span></a>"
            )
        else:
            out.append(html.escape(original))
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out)


def text_to_html(
    text: str,
    *,
    mentions: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    base_url: str,
) -> str:
    """HTML for a post a local member typed as plain text.

    Everything typed is escaped (``<b>`` stays text). Blank lines separate ``<p>``
    paragraphs, single newlines become ``<br>``. http(s) URLs are linked. ``@user`` and
    ``@user@domain`` are linked as Mastodon does when ``mentions`` (acct as returned by
    :func:`extract_mentions` → profile URL; looked up as typed, then lower-cased) knows
    them, and left as text otherwise. ``#tag`` links to ``tags[normalized name]`` or
    ``{base_url}/tags/{normalized name}``.
    """
    mention_map: dict[str, str] = {}
    for acct, href in (mentions or {}).items():
        mention_map.setdefault(acct, href)
        mention_map.setdefault(acct.lower(), href)
    tag_map = dict(tags or {})
    base = base_url.rstrip("/")
    normalized = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not normalized.strip():
        return ""
    paragraphs = [p.strip("\n") for p in re.split(r"\n[ \t]*\n+", normalized)]
    rendered = []
    for paragraph in paragraphs:
        if not paragraph.strip():
            continue
        lines = [_inline_html(line, mention_map, tag_map, base) for line in paragraph.split("\n")]
        rendered.append(f"<p>{'<br>'.join(lines)}</p>")
    return "".join(rendered)
