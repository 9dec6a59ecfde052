from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from fedinet.ap.sanitize import (
    extract_hashtags,
    extract_mentions,
    html_to_text,
    normalize_hashtag,
    sanitize_html,
    text_to_html,
)

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://fedinet.test"


def fixture(name: str) -> dict[str, Any]:
    doc = json.loads(FIXTURES.joinpath(name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def note_content(name: str) -> str:
    doc = fixture(name)
    content = doc.get("object", doc)["content"]
    assert isinstance(content, str)
    return content


# --------------------------------------------------------------------------- hostile input

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    '<p onclick="alert(1)" onmouseover="alert(1)">click</p>',
    '<a href="javascript:alert(1)">j</a>',
    '<a href="JaVaScRiPt:alert(1)">j</a>',
    '<a href=" javascript:alert(1)">j</a>',
    '<a href="javascript&#58;alert(1)">j</a>',
    '<a href="javascript&colon;alert(1)">j</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">j</a>',
    '<a href="java\tscript:alert(1)">j</a>',
    '<a href="java&#x09;script:alert(1)">j</a>',
    '<a href="vbscript:msgbox(1)">v</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
    '<a href="DATA:text/html,<script>alert(1)</script>">d</a>',
    '<iframe src="https://evil.example/" onload="alert(1)">framed</iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body { background: url(javascript:alert(1)) }</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="https://evil.example/"><input name="password"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<video src=x onerror="alert(1)"></video><audio src=x onerror="alert(1)"></audio>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<a href="https://ok.example/" onmouseover="alert(1)" style="x">ok</a>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<template><script>alert(1)</script></template>",
    '<textarea><img src=x onerror="alert(1)"></textarea>',
    '<details open ontoggle="alert(1)">d</details>',
    '<span class="h-card" onclick="alert(1)" data-x="y" id="z">s</span>',
    '<a href="/relative/path">relative</a>',
    '<a href="//evil.example/x">protocol-relative</a>',
]

DANGER = re.compile(
    r"<\s*(script|style|iframe|img|svg|math|object|embed|form|input|button|meta|base|link|"
    r"video|audio|template|textarea|details)\b|\bon[a-z]+\s*=|javascript:|vbscript:|data:|"
    r"\bstyle\s*=|\bsrc\s*=|\bid\s*=|\bdata-",
    re.IGNORECASE,
)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markup_is_neutralised(hostile: str) -> None:
    cleaned = sanitize_html(hostile)
    assert not DANGER.search(cleaned), cleaned
    # Every tag left is one of the allowed ones.
    for tag in re.findall(r"</?\s*([a-zA-Z][a-zA-Z0-9]*)", cleaned):
        assert tag.lower() in {
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
        }, cleaned
    # Sanitising is idempotent.
    assert sanitize_html(cleaned) == cleaned


def test_script_and_style_lose_their_text() -> None:
    cleaned = sanitize_html("<p>before<script>var secret = 1;</script><style>p{}</style>after</p>")
    assert cleaned == "<p>beforeafter</p>"


def test_broken_script_split_keeps_no_script_element() -> None:
    assert sanitize_html("<scr<script>ipt>alert(1)</script>") == "ipt&gt;alert(1)"


def test_links_without_a_safe_href_become_text() -> None:
    assert sanitize_html('<p><a href="javascript:alert(1)">click me</a></p>') == "<p>click me</p>"
    assert sanitize_html('<a href="data:text/html,x" class="mention">@x</a>') == "@x"
    assert sanitize_html('<a href="/local">here</a>') == "here"


def test_links_get_rel_and_target_forced() -> None:
    cleaned = sanitize_html('<a href="https://ok.example/" rel="me" target="_self">ok</a>')
    assert cleaned == (
        '<a href="https://ok.example/" target="_blank" rel="nofollow noopener noreferrer">ok</a>'
    )


@pytest.mark.parametrize(
    "href",
    [
        "http://a.example/",
        "https://a.example/x?y=1",
        "mailto:me@a.example",
        "xmpp:me@a.example",
        "matrix:u/me:a.example",
        "gemini://a.example/",
    ],
)
def test_harmless_schemes_survive(href: str) -> None:
    assert f'href="{href}"' in sanitize_html(f'<a href="{href}">x</a>')


def test_only_known_classes_survive() -> None:
    cleaned = sanitize_html(
        '<span class="h-card evil"><a href="https://a.example/@x" class="u-url mention big">'
        '@<span class="invisible hidden">x</span></a></span>'
    )
    assert 'class="h-card"' in cleaned
    assert 'class="u-url mention"' in cleaned
    assert 'class="invisible"' in cleaned
    assert "evil" not in cleaned and "big" not in cleaned and "hidden" not in cleaned


def test_formatting_survives_and_headings_become_strong_paragraphs() -> None:
    html = (
        "<h1>Title</h1><p><strong>b</strong> <b>b</b> <em>e</em> <i>i</i> <del>d</del> "
        "<s>s</s> <code>c</code></p><pre>x = 1</pre><blockquote>q</blockquote>"
        '<ul><li>one</li></ul><ol start="3"><li>three</li></ol><div>unwrapped</div>'
    )
    assert sanitize_html(html) == (
        "<p><strong>Title</strong></p><p><strong>b</strong> <b>b</b> <em>e</em> <i>i</i> "
        "<del>d</del> <s>s</s> <code>c</code></p><pre>x = 1</pre><blockquote>q</blockquote>"
        '<ul><li>one</li></ul><ol start="3"><li>three</li></ol>unwrapped'
    )


def test_translate_no_is_kept_other_values_dropped() -> None:
    assert 'translate="no"' in sanitize_html('<span translate="no">x</span>')
    assert "translate" not in sanitize_html('<span translate="yes">x</span>')


# --------------------------------------------------------------------------- real notes


def test_real_mastodon_note_keeps_mention_link_and_paragraphs() -> None:
    cleaned = sanitize_html(note_content("mastodon_note_attachment.json"))
    assert cleaned == (
        '<p><span class="h-card" translate="no"><a href="https://lemmy.kde.social/c/kde" '
        'class="u-url mention" target="_blank" rel="nofollow noopener noreferrer">'
        "@<span>kde@lemmy.kde.social</span></a></span> </p>"
        "<p>We also need funding 💶 to keep the gears turning! Please support us with a "
        "donation:</p>"
        '<p><a href="https://kde.org/donate/" translate="no" target="_blank" '
        'rel="nofollow noopener noreferrer"><span class="invisible">https://</span>'
        '<span class="">kde.org/donate/'
        '</span><span class="invisible"></span></a></p><p>[3/3]</p>'
    )


def test_real_mastodon_note_entities_survive() -> None:
    cleaned = sanitize_html(note_content("mastodon_note_to_community.json"))
    assert "Hi! I&#39;m" not in cleaned  # re-serialised, not kept as typed …
    assert "Hi! I'm using a variable" in cleaned  # … but the apostrophe is still there
    assert cleaned.count("<p>") == 2


def test_real_friendica_note_keeps_hashtags_and_line_breaks() -> None:
    cleaned = sanitize_html(note_content("friendica_note_hashtags.json"))
    assert (
        '<a href="https://nerdica.net/search?tag=Friendica" class="mention hashtag" '
        'target="_blank" rel="nofollow noopener noreferrer">#<span>Friendica</span></a>'
    ) in cleaned
    assert "<br>" in cleaned
    assert "<blockquote>" in cleaned
    assert "<div" not in cleaned and "<h3" not in cleaned
    assert "<p><strong>Do your commenting tests here.</strong></p>" in cleaned
    assert 'class="url u-url mention"' not in cleaned  # "url" is not an allowed class
    assert 'class="u-url mention"' in cleaned


def test_html_to_text_of_real_note() -> None:
    text = html_to_text(note_content("mastodon_note_attachment.json"))
    assert text == (
        "@kde@lemmy.kde.social\n\nWe also need funding 💶 to keep the gears turning! "
        "Please support us with a donation:\n\nhttps://kde.org/donate/\n\n[3/3]"
    )


def test_html_to_text_breaks_entities_and_scripts() -> None:
    assert html_to_text("<p>a<br>b<br/>c</p><p>d &amp; &lt;e&gt; &#39;f&#39;</p>") == (
        "a\nb\nc\n\nd & <e> 'f'"
    )
    assert html_to_text("<p>x<script>alert(1)</script><style>p{}</style>y</p>") == "xy"
    assert html_to_text("  <p>  spaced \n  out  </p>  ") == "spaced out"
    assert html_to_text("") == ""
    assert html_to_text("plain") == "plain"


# --------------------------------------------------------------------------- local text


def test_text_to_html_escapes_typed_markup() -> None:
    assert text_to_html("<b>bold?</b> & <script>x</script>", base_url=BASE) == (
        "<p>&lt;b&gt;bold?&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;</p>"
    )


def test_text_to_html_paragraphs_and_line_breaks() -> None:
    text = "first line\nsecond line\n\n\nnew paragraph\r\nwith CRLF\n"
    assert text_to_html(text, base_url=BASE) == (
        "<p>first line<br>second line</p><p>new paragraph<br>with CRLF</p>"
    )
    assert text_to_html("   \n\n ", base_url=BASE) == ""


def test_text_to_html_links_mentions_as_mastodon_does() -> None:
    html = text_to_html(
        "hi @alice@Remote.Example and @bob, not @carol",
        mentions={
            "alice@remote.example": "https://remote.example/@alice",
            "bob": f"{BASE}/@bob",
        },
        base_url=BASE,
    )
    assert html == (
        '<p>hi <span class="h-card"><a href="https://remote.example/@alice" '
        'class="u-url mention">@<span>alice</span></a></span> and '
        f'<span class="h-card"><a href="{BASE}/@bob" class="u-url mention">'
        "@<span>bob</span></a></span>, not @carol</p>"
    )


def test_text_to_html_links_hashtags() -> None:
    html = text_to_html("#Café and #日本語 but not C# or #123", base_url=BASE + "/")
    assert html == (
        f'<p><a href="{BASE}/tags/caf%C3%A9" class="mention hashtag" rel="tag">'
        "#<span>Café</span></a> and "
        f'<a href="{BASE}/tags/%E6%97%A5%E6%9C%AC%E8%AA%9E" class="mention hashtag" rel="tag">'
        "#<span>日本語</span></a> but not C# or #123</p>"
    )
    custom = text_to_html("#Fedi", tags={"fedi": "https://x.example/t/fedi"}, base_url=BASE)
    assert 'href="https://x.example/t/fedi"' in custom


def test_text_to_html_links_urls_as_mastodon_does() -> None:
    html = text_to_html("see https://example.com/page.", base_url=BASE)
    assert html == (
        '<p>see <a href="https://example.com/page" target="_blank" '
        'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://'
        '</span><span class="">example.com/page</span><span class="invisible"></span></a>.</p>'
    )
    long = text_to_html(
        "(https://www.example.com/a/very/long/path/that/goes/on?x=1&y=2)", base_url=BASE
    )
    assert 'href="https://www.example.com/a/very/long/path/that/goes/on?x=1&amp;y=2"' in long
    assert '<span class="invisible">https://www.</span>' in long
    assert '<span class="ellipsis">example.com/a/very/long/path/t</span>' in long
    assert long.endswith("</a>)</p>")
    assert html_to_text(long) == "(https://www.example.com/a/very/long/path/that/goes/on?x=1&y=2)"


def test_text_to_html_does_not_link_inside_urls() -> None:
    html = text_to_html("https://example.com/@bob/#top", mentions={"bob": "x"}, base_url=BASE)
    assert "mention" not in html
    assert html.count("<a ") == 1


def test_text_to_html_output_survives_sanitising() -> None:
    html = text_to_html(
        "@bob look: https://example.com #tag\n\n<i>x</i>",
        mentions={"bob": f"{BASE}/@bob"},
        base_url=BASE,
    )
    cleaned = sanitize_html(html)
    assert (
        html_to_text(cleaned)
        == html_to_text(html)
        == ("@bob look: https://example.com #tag\n\n<i>x</i>")
    )
    assert 'class="u-url mention"' in cleaned and 'class="mention hashtag"' in cleaned


# --------------------------------------------------------------------------- extraction


def test_extract_mentions() -> None:
    text = (
        "@alice hi @Bob@Example.COM, @alice again; mail me at me@mail.example, "
        "see https://x.example/@carol and @dave@sub.example.org."
    )
    assert extract_mentions(text) == ["alice", "Bob@example.com", "dave@sub.example.org"]
    assert extract_mentions("no mentions @ all") == []


def test_extract_hashtags_normalizes_non_english() -> None:
    text = "#café #CAFÉ #日本語 #Straße #STRASSE #Ελληνικά #हिन्दी #tag_1 C# #123 https://x.example/#frag"
    assert extract_hashtags(text) == ["café", "日本語", "strasse", "ελληνικά", "हिन्दी", "tag_1"]


def test_extract_hashtags_decomposed_accent_matches_composed() -> None:
    assert extract_hashtags("#cafe\u0301") == ["café"]


def test_normalize_hashtag() -> None:
    assert normalize_hashtag("#Straße") == "strasse"
    assert normalize_hashtag("Café") == "café"
    assert normalize_hashtag("#\uff26\uff35\uff2c\uff2c") == "full"
    assert normalize_hashtag("#two words!") == "twowords"
    assert normalize_hashtag("#") == ""
