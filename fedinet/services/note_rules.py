"""The rules a follow request's note must pass before it reaches a member.

A member asks for effort: a note that says who is asking and what the two have in common.
A request whose note fails a rule of the recipient's policy is refused, and the refusal
says which rule failed, in a sentence, and how to fix it, naming concrete things from the
recipient's public profile (their interests, why they are here, their region).

Rules, in the order they run (the first failure is reported):

1. ``note_missing``: nothing but whitespace and invisible characters.
2. ``note_too_short``: fewer than 40 characters or fewer than 6 words. In scripts written
   without spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) every letter counts as a
   word.
3. ``note_generic``: mostly a canned invitation ("I'd like to add you to my professional
   network"): pg_trgm, see :func:`fedinet.db.notes.max_canned_similarity`.
4. ``note_repeated``: near-identical to a note the sender sent to someone *else* in the
   last 30 days (pg_trgm ``similarity``, at most 100 of their recent notes).
5. ``note_impersonal``: mentions nothing of the recipient: not their name or handle, not
   one of their interests, motives or region, not a distinctive word of their bio or
   recent public posts (see :func:`profile_words` and :func:`find_mentions`).

Policies: ``strict`` (all five, the default), ``standard`` (1 to 4), ``open`` (no rule: a
note is optional). Every rule is deterministic: the same note, profile and stored notes
give the same answer.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from fedinet.ap.sanitize import normalize_hashtag
from fedinet.db import notes as notes_db
from fedinet.db.types import Executor
from fedinet.vocabulary import is_sensitive, motive_labels

__all__ = [
    "GENERIC_THRESHOLD",
    "MIN_CHARS",
    "MIN_WORDS",
    "MOTIVE_KEYWORDS",
    "POLICIES",
    "REPEAT_THRESHOLD",
    "REPEAT_WINDOW",
    "RULES",
    "RecipientProfile",
    "Refusal",
    "check_note",
    "count_words",
    "explain",
    "find_mentions",
    "normalize_note",
    "profile_words",
]

RULES: Final = (
    "note_missing",
    "note_too_short",
    "note_generic",
    "note_repeated",
    "note_impersonal",
)
POLICIES: Final[dict[str, tuple[str, ...]]] = {
    "strict": RULES,
    "standard": RULES[:4],
    "open": (),
}

# -- thresholds --------------------------------------------------------------------------

MIN_CHARS: Final = 40
MIN_WORDS: Final = 6
"""From the issue: fewer than 40 characters (after :func:`normalize_note`) or 6 words."""

GENERIC_THRESHOLD: Final = 0.5
"""A note scoring at least this against a canned invitation is generic. Measured on the
notes of tests/services/test_note_rules.py: stock texts with a word or two changed, a name
added, or cut short score 0.56 to 1.0; a stock opener followed by a personal paragraph at
least as long scores 0.24 to 0.30; genuine notes score 0.08 to 0.29. So a note that is
more than about half stock text is refused ("Hello Dave, I came across your profile and
thought we should connect since we both blog about marketing" scores 0.57: refused, with
a hint to write it in one's own words), and a stock opener followed by real sentences
passes this rule and is judged by the others."""

REPEAT_THRESHOLD: Final = 0.6
"""A note at least this alike (pg_trgm ``similarity``) to one the sender sent to someone
else is repeated. Measured: the same note with the name swapped scores 0.76 to 0.94
(English, German, Japanese, Arabic); a template with the name and one or two interests
swapped, 0.70 to 0.90; two real notes by one sender, even on the same theme or with the
same sign-off, 0.04 to 0.37. 0.6 sits between the groups with room on both sides."""

REPEAT_WINDOW: Final = timedelta(days=30)

# -- text --------------------------------------------------------------------------------

_SPACE: Final = re.compile(r"\s+")
_APOSTROPHE_IN_WORD: Final = re.compile(r"(?<=\w)['\u2019](?=\w)")
_URL: Final = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE: Final = re.compile(r"@[\w.-]+(?:@[\w.-]+)?")
_SHORTCODE: Final = re.compile(r":[a-zA-Z0-9_]+:")  # custom emoji in display names

# Scripts written without spaces between words: Thai, Lao, Burmese, Khmer, kana, CJK.
_NO_SPACE_RANGES: Final = (
    (0x0E00, 0x0EFF),
    (0x1000, 0x109F),
    (0x1780, 0x17FF),
    (0x3040, 0x30FF),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
# Of those, the ones whose runs carry content words (kanji, hanzi, katakana loanwords);
# hiragana is mostly grammar (particles, endings) and is not used for matching.
_CONTENT_RANGES: Final = ((0x30A0, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


def _char_class(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


def _scan_marks() -> tuple[dict[int, None], dict[int, None], str]:
    """From the Unicode database, once: the non-spacing marks folding drops (accents,
    Arabic harakat; not those of the no-space scripts, whose marks change the word), the
    invisible format characters a note loses (ZWNJ kept: Persian spelling needs it), and
    a regex class of every mark (marks belong to the word they sit on)."""
    drop: dict[int, None] = {}
    invisible: dict[int, None] = {}
    marks: list[tuple[int, int]] = []
    for code in (*range(0x10000), *range(0xE0000, 0xE0080)):
        category = unicodedata.category(chr(code))
        if category[0] == "M":
            if marks and marks[-1][1] == code - 1:
                marks[-1] = (marks[-1][0], code)
            else:
                marks.append((code, code))
            if category == "Mn" and not any(lo <= code <= hi for lo, hi in _NO_SPACE_RANGES):
                drop[code] = None
        elif category == "Cf" and code != 0x200C:
            invisible[code] = None
    return drop, invisible, _char_class(marks)


_DROP_MARKS, _INVISIBLE, _MARKS = _scan_marks()
_NO_SPACE: Final = re.compile(f"[{_char_class(_NO_SPACE_RANGES)}]")
_CONTENT_RUN: Final = re.compile(f"[{_char_class(_CONTENT_RANGES)}]{{2,}}")
# A word: letters, digits and marks (apostrophes and underscores split words).
_WORD: Final = re.compile(f"(?:[^\\W_]|[{_MARKS}])+")


def normalize_note(note: str) -> str:
    """NFKC, invisible format characters (zero-width spaces, BOM) removed, whitespace
    collapsed to single spaces, stripped. What the rules measure and compare."""
    text = unicodedata.normalize("NFKC", note).translate(_INVISIBLE)
    return _SPACE.sub(" ", text).strip()


def count_words(text: str) -> int:
    """Words of a normalized note: runs of letters, digits and marks (``don't`` is one),
    except that in scripts written without spaces each letter counts as one word."""
    text = _APOSTROPHE_IN_WORD.sub("", text)
    letters = sum(1 for ch in _NO_SPACE.findall(text) if unicodedata.category(ch)[0] == "L")
    return letters + len(_WORD.findall(_NO_SPACE.sub(" ", text)))


def _fold(text: str) -> str:
    """Case-folded and accent-insensitive (NFKD, combining marks dropped), except in kana
    and CJK, whose voicing marks change the word (ガーデン garden, カーテン curtain)."""
    text = unicodedata.normalize("NFKD", text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text.translate(_DROP_MARKS))
    return text.casefold()


def _words(folded: str) -> list[str]:
    """Words of folded text, split at anything that is not a letter, digit or mark
    (apostrophes included: ``dave's`` gives ``dave`` and ``s``). Runs of no-space scripts
    are left out; see :func:`_content_runs`."""
    return _WORD.findall(_NO_SPACE.sub(" ", folded))


def _content_runs(folded: str) -> list[str]:
    """Runs of two or more kanji/hanzi/katakana: the content words of Chinese and
    Japanese text, which has no spaces to split on."""
    return _CONTENT_RUN.findall(folded)


def _compact(folded: str) -> str:
    """Letters, digits and marks only: ``urban gardening`` and ``#UrbanGardening`` meet
    here."""
    return "".join(_WORD.findall(folded))


# -- stopwords ---------------------------------------------------------------------------


def _keywords(block: str) -> tuple[str, ...]:
    return tuple(block.split())


# Small lists of frequent words of 4+ letters (shorter words never count as distinctive),
# folded (no accents), per language. Not exhaustive: they only keep the commonest words
# of a bio or post from passing for "something in common".

_STOPWORDS_EN = """
about above after again against also always among another anyone anything around away
back because been before being below best between both came cannot come could days does
doing done down during each either else even ever every from further gets getting give
going good great have having hello hear here hers herself himself into just keep know
last least less like little long look lots made make many maybe more most much must myself
need never next nice once only other others ours ourselves over own people please pretty
quite rather really right said same says should since some someone something sometimes
soon still such sure take than thank thanks that their theirs them themselves then there
these they thing things think this those though through time times today together tomorrow
told took toward under until upon very want wants week well went were what whatever when
where whether which while whom whose will wish with within without would year years yesterday
your yours yourself
"""
_STOPWORDS_DE = """
aber alle allem allen aller alles also andere anderen auch auf aus bei beim bin bis bist
dann darum dass dein deine deinem deinen deiner denn diese diesem diesen dieser dieses doch
dort durch eine einem einen einer eines etwas euch euer eure fuer gegen gern gerne habe
haben hast hatte hier ihnen ihre ihrem ihren ihrer immer jede jedem jeden jeder jetzt kann
kannst keine mein meine meinem meinen meiner mich mir mit nach nicht noch nur oder ohne
schon sehr sein seine sich sind sowie ueber uber unser unsere unter viel viele vom von
warum weil wenn werde werden wieder will wir wird wurde zum zur zwischen hallo liebe lieber
danke
"""
_STOPWORDS_FR = """
alors aussi autre autres avant avec avoir bien bonjour cela celle celles celui cette ceux
chez comme comment dans depuis donc elle elles encore entre etre fait faire leur leurs mais
meme merci moins nous notre nos pour pourquoi quand quel quelle quelque quels sans sera
seront sont sous suis tous tout toute toutes tres trop vers votre vous vraiment salut aime
aimerais
"""
_STOPWORDS_ES = """
ahora algo algunos ante antes aqui como con contra cual cuando desde donde durante ella
ellas ellos entre esta estas este esto estos estoy fue gracias hace hacer hasta hola mas
mismo mucho muchos muy nada nosotros nuestra nuestro otra otro para pero poco porque
puede quien sobre solo somos soy tambien tanto tengo tiene todo todos usted ustedes vez
"""
_STOPWORDS_IT = """
anche ancora avere come con cosa cosi della delle dello degli dove essere fare grazie
loro molto nella nelle nostro nostra ogni perche piu poco proprio quale quando quanto
quella quello questa questo sempre sono sua suo tutti tutto vostro vostra ciao
"""
_STOPWORDS_PT = """
agora ainda algo aqui assim com como dela dele desde esta estas este estou isso isto
mais mesmo muito muitos nada nossa nosso obrigado obrigada onde para pela pelo pois
porque quando quem sempre seja sobre somos sou tambem tenho tudo voce voces ola
"""
_STOPWORDS_NL = """
alle allemaal altijd andere bent daar dacht dank deze die dit doen door echt een eens
elke geen hebben heeft hier hallo heel jouw jullie kan kunnen maar meer mijn naar niet
niets nooit omdat onder ons onze ook over veel voor waar wanneer want wat weer welke
werd wie wij wil worden zelf zich zijn zou zoals
"""
# Words of the networking ritual itself, of the built-in canned invitations, and of the
# fediverse: saying them is no sign of having read the profile ("I'd like to follow you"
# must not match a bio that says "follow", nor "both of our networks will grow" one that
# says "grow").
_STOPWORDS_RITUAL = """
connect connecting connection connections network networks networking profile profiles
follow follows following follower followers request requests invite invitation
professional professionals interested interest interesting acquaintance contact
accept across below directly expand found grow help join link looking minded referrals
searching thought happy work working finally actually first start started yeah okay
post posts toot toots boost boosts reply replies thread threads account http https
mastodon fediverse fedinet linkedin
フォロー 投稿 プロフィール ネットワーク リクエスト 今日 本当 自分 時間 最近 毎日 一緒
"""

STOPWORDS: Final = frozenset(
    word
    for block in (
        _STOPWORDS_EN,
        _STOPWORDS_DE,
        _STOPWORDS_FR,
        _STOPWORDS_ES,
        _STOPWORDS_IT,
        _STOPWORDS_PT,
        _STOPWORDS_NL,
        _STOPWORDS_RITUAL,
    )
    for word in block.split()
)

# Region parts too vague to show a shared place ("North Yorkshire" → only "yorkshire").
_VAGUE_PLACE: Final = frozenset(
    _keywords(
        """
        north south east west northern southern eastern western central greater upper lower
        city county state region area province district
        """
    )
)

# -- motives -----------------------------------------------------------------------------

MOTIVE_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    # English first, then a few common German, French, Spanish, Italian, Portuguese and
    # Dutch equivalents; folded (no accents). A note using one of these names the
    # recipient's motive ("like you, I'm here to make friends"). Words shared with the
    # networking ritual ("professional", "network") are left out on purpose.
    "professional": _keywords(
        """
        career careers colleague colleagues collaborate collaboration mentor mentoring
        business industry beruf kollege carriere carrera carriera carreira collega
        """
    ),
    "shared-interests": _keywords("common shared passion gemeinsam commun comun comune"),
    "hobbies": _keywords("hobby hobbies hobbyist pastime passetemps pasatiempo passatempo"),
    "spiritual": _keywords(
        """
        spiritual spirituality faith belief beliefs meditation prayer religion religious
        spirituell glaube spirituel spirituelle foi espiritual fe spirituale fede geloof
        """
    ),
    "friendship": _keywords(
        """
        friend friends friendship freund freundin freunde freundschaft ami amie amis
        amitie amigo amiga amigos amistad amico amica amicizia amizade vriend vriendin
        vriendschap
        """
    ),
    "life-partner": _keywords(
        """
        partner relationship dating soulmate partnerin partenaire pareja compagno
        compagna parceiro parceira
        """
    ),
    "support": _keywords(
        """
        support supporting caregiver caregiving carer caring illness disability disabled
        chronic unterstutzung pflege soutien aidant apoyo cuidador cuidadora sostegno
        apoio steun mantelzorg mantelzorger
        """
    ),
    "local": _keywords(
        """
        nearby neighbour neighbor neighbours neighbors neighbourhood neighborhood local
        locally nachbar nachbarin voisin voisine vecino vecina vicino vicina vizinho
        vizinha buurman buurvrouw
        """
    ),
}
"""Per motive (vocabulary key), the words that mention it. ``local`` also matches the
words of the recipient's region."""


# -- the recipient -----------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a note was refused: ``reason`` is one of :data:`RULES`; ``message`` says what
    failed and ``hint`` how to fix it, each a sentence for the sender."""

    reason: str
    message: str
    hint: str


@dataclass(frozen=True)
class RecipientProfile:
    """What the rules know of the recipient, all public. ``bio_text`` and
    ``recent_posts`` are plain text (see :func:`fedinet.ap.sanitize.html_to_text`)."""

    username: str
    acct: str
    display_name: str
    interests: tuple[str, ...]
    motives: tuple[str, ...]
    region: str | None
    bio_text: str
    recent_posts: tuple[str, ...]

    @property
    def name(self) -> str:
        """The display name without custom emoji, else the username."""
        cleaned = _SPACE.sub(" ", _SHORTCODE.sub("", self.display_name)).strip()
        return cleaned or self.username


def _cjk_terms(folded: str, *, windows: bool) -> set[str]:
    """Kanji/katakana runs; with ``windows``, a run of 4+ also gives each 2-letter window
    (東京在住 "lives in Tokyo" gives 東京), as Japanese writes compounds without breaks."""
    found: set[str] = set()
    for run in _content_runs(folded):
        found.add(run)
        if windows and len(run) >= 4:
            found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found - STOPWORDS


def _distinctive(text: str) -> tuple[set[str], set[str]]:
    """(words, Chinese/Japanese terms) of a bio or post, URLs and handles left out."""
    folded = _fold(_HANDLE.sub(" ", _URL.sub(" ", text)))
    words = {
        word
        for word in _words(folded)
        if len(word) >= 4 and word not in STOPWORDS and not word.isdigit()
    }
    return words, _cjk_terms(folded, windows=True)


def _name_terms(profile: RecipientProfile) -> tuple[set[str], set[str]]:
    words: set[str] = set()
    compounds: set[str] = set()
    for source in (profile.name, profile.username, profile.acct.split("@")[0]):
        folded = _fold(source)
        words.update(w for w in _words(folded) if len(w) >= 2 and w not in STOPWORDS)
        for run in _content_runs(folded):
            # a Japanese note names 山田花子 as 山田さん: the family name comes first
            compounds.update({run, run[:2]} if len(run) >= 3 else {run})
        compact = _compact(folded)
        if len(compact) >= 4:
            compounds.add(compact)  # "dave_taylor" written as a handle or as one word
    return words, compounds


def _interest_terms(profile: RecipientProfile) -> set[str]:
    return {tag for tag in (_compact(_fold(i)) for i in profile.interests) if tag}


def _region_terms(profile: RecipientProfile) -> tuple[set[str], set[str]]:
    if not profile.region:
        return set(), set()
    folded = _fold(profile.region)
    words = {
        w for w in _words(folded) if len(w) >= 3 and w not in STOPWORDS and w not in _VAGUE_PLACE
    }
    compounds = _cjk_terms(folded, windows=True)
    compact = _compact(folded)
    if len(compact) >= 4:
        compounds.add(compact)  # "New York" written "newyork", or #NewYork
    return words, compounds


@functools.lru_cache(maxsize=1024)  # a member receives requests in bursts
def _terms(profile: RecipientProfile) -> tuple[frozenset[str], frozenset[str]]:
    """(words, compounds): words match a word of the note (or one with the same stem);
    compounds (interests, whole names and regions, Chinese and Japanese terms) may also
    match anywhere in the note's letters, across spaces and inside longer words."""
    words: set[str] = set()
    compounds: set[str] = set(_interest_terms(profile))
    parts = [_distinctive(text) for text in (profile.bio_text, *profile.recent_posts)]
    parts += [_name_terms(profile), _region_terms(profile)]
    for part_words, part_compounds in parts:
        words.update(part_words)
        compounds.update(part_compounds)
    return frozenset(words), frozenset(compounds)


def profile_words(profile: RecipientProfile) -> frozenset[str]:
    """Folded words that, found in a note, show it was written for this recipient: the
    distinctive words of their bio and recent posts (4+ letters, not a stopword; runs of
    kanji or katakana in Chinese and Japanese), their interests, the parts of their
    display name and username, and the parts of their region. Motives are matched
    separately, through :data:`MOTIVE_KEYWORDS`."""
    words, compounds = _terms(profile)
    return words | compounds


class _NoteIndex:
    """A note prepared for matching: its folded words, those words by 4-letter prefix,
    and its compact form (letters and digits only)."""

    def __init__(self, note: str) -> None:
        folded = _fold(note)
        words = _words(folded)
        # a handle, @sam_k or @sam_k@example.org, names its user as one word: "samk"
        words += [_compact(h.split("@")[1]) for h in _HANDLE.findall(folded)]
        # Arabic writes the article into the word: الحدائق is "the gardens".
        words += [w[2:] for w in words if w.startswith("ال") and len(w) > 4]
        self.words = frozenset(words)
        self.by_prefix: dict[str, list[str]] = {}
        for word in self.words:
            if len(word) >= 5:
                self.by_prefix.setdefault(word[:4], []).append(word)
        self.compact = _compact(folded)

    def has_word(self, term: str) -> bool:
        """The same word, or one with the same stem: a shared prefix of 5+ letters, the
        longer word at most 3 letters longer (garden/gardening, photograph/photographer)."""
        if term in self.words:
            return True
        if len(term) >= 5:
            return any(_same_stem(term, word) for word in self.by_prefix.get(term[:4], ()))
        return False

    def has_compound(self, term: str) -> bool:
        """As a word, or (5+ letters, or any Chinese or Japanese term) anywhere in the
        note's letters: #UrbanGardening in "urban gardening", 園芸 in a sentence."""
        if self.has_word(term):
            return True
        if len(term) >= 5 or _NO_SPACE.search(term):
            return term in self.compact
        return False


def _same_stem(a: str, b: str) -> bool:
    shared = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        shared += 1
    return shared >= 5 and max(len(a), len(b)) - shared <= 3


def find_mentions(profile: RecipientProfile, note: str) -> tuple[str, ...]:
    """What of the recipient the note mentions, sorted: folded terms of
    :func:`profile_words`, and ``motive:<key>`` for each motive it names. Empty when the
    note is impersonal."""
    index = _NoteIndex(normalize_note(note))
    words, compounds = _terms(profile)
    found = {t for t in words if index.has_word(t)}
    found.update(t for t in compounds if index.has_compound(t))
    for motive in profile.motives:
        mentioned = any(index.has_word(word) for word in MOTIVE_KEYWORDS.get(motive, ()))
        if motive == "local" and not mentioned:
            region_words, region_compounds = _region_terms(profile)
            mentioned = any(index.has_word(w) for w in region_words) or any(
                index.has_compound(c) for c in region_compounds
            )
        if mentioned:
            found.add(f"motive:{motive}")
    return tuple(sorted(found))


# -- refusals ----------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _common_ground(profile: RecipientProfile) -> str:
    """A clause naming what the recipient shows publicly (up to three interests, two
    motives that are not sensitive, their region), or '' when they show nothing."""
    parts: list[str] = []
    tags = [f"#{tag}" for tag in (normalize_hashtag(i) for i in profile.interests) if tag][:3]
    if tags:
        parts.append(f"lists {_join(tags)}")
    # Sensitive motives (support, spiritual, life partner) still count when a note names
    # them, but a refusal, which anyone can provoke, does not spell them out.
    labels = motive_labels([m for m in profile.motives if not is_sensitive(m)])[:2]
    if labels:
        parts.append(f"is here for {_join(labels)}")
    if profile.region and profile.region.strip():
        parts.append(f"is in {_SPACE.sub(' ', profile.region).strip()}")
    if not parts:
        return ""
    if len(parts) == 3:
        return f"{profile.name} {parts[0]}, {parts[1]}, and {parts[2]}"
    return f"{profile.name} {_join(parts)}"


def _hint(profile: RecipientProfile, lead: str) -> str:
    ground = _common_ground(profile)
    if ground:
        return f"{lead} — {ground} — or why you want to connect."
    return (
        f"{lead}: mention something from {profile.name}'s bio or recent posts, or say why "
        "you want to connect."
    )


def _refusal(
    reason: str,
    profile: RecipientProfile,
    *,
    chars: int = 0,
    words: int = 0,
    canned: str = "",
    others: int = 0,
) -> Refusal:
    name = profile.name
    if reason == "note_missing":
        return Refusal(
            reason,
            f"{name} only accepts follow requests that come with a note.",
            _hint(profile, "Add a few sentences saying what you have in common"),
        )
    if reason == "note_too_short":
        return Refusal(
            reason,
            f"This note is too short ({chars} characters, {words} words); {name} asks for "
            f"at least {MIN_CHARS} characters and {MIN_WORDS} words.",
            _hint(profile, "Say a little more about what you have in common"),
        )
    if reason == "note_generic":
        return Refusal(
            reason,
            f'This note reads like a stock invitation ("{canned}").',
            _hint(profile, "Write it in your own words and say what you have in common"),
        )
    if reason == "note_repeated":
        people = "someone else" if others <= 1 else f"{others} other people"
        return Refusal(
            reason,
            f"You sent a near-identical note to {people} in the last {REPEAT_WINDOW.days} days.",
            _hint(profile, f"Write this one for {name} alone and say what you have in common"),
        )
    if reason == "note_impersonal":
        return Refusal(
            reason,
            f"This note says nothing about {name}: not their name, interests, motives or "
            "region, nor anything from their bio or recent posts.",
            _hint(profile, "Say what you have in common"),
        )
    raise ValueError(f"unknown rule {reason!r}")


_EXPLANATIONS: Final = {
    "note_missing": "The request came without a note.",
    "note_too_short": (
        f"The note has fewer than {MIN_CHARS} characters or fewer than {MIN_WORDS} words."
    ),
    "note_generic": "The note is mostly a stock invitation, such as LinkedIn's defaults.",
    "note_repeated": (
        "The sender sent a near-identical note to someone else in the last "
        f"{REPEAT_WINDOW.days} days."
    ),
    "note_impersonal": (
        "The note mentions nothing of the recipient: not their name or handle, interests, "
        "motives or region, nor a distinctive word of their bio or recent posts."
    ),
}


def explain(reason: str) -> str:
    """What a rule checks, in one sentence (for the recipient's settings and logs)."""
    try:
        return _EXPLANATIONS[reason]
    except KeyError:
        raise ValueError(f"unknown rule {reason!r}") from None


# -- the check ---------------------------------------------------------------------------


async def check_note(
    db: Executor,
    *,
    sender_id: int,
    recipient_id: int,
    recipient: RecipientProfile,
    note: str,
    policy: str,
    now: datetime,
) -> Refusal | None:
    """Run the rules of ``policy`` on ``note`` in order; the first that fails is returned
    as a :class:`Refusal`, or None when the note passes them all. At most two queries
    (generic, repeated), each bounded. Raises ValueError for an unknown policy."""
    try:
        rules = POLICIES[policy]
    except KeyError:
        raise ValueError(f"unknown follow-note policy {policy!r}") from None
    text = normalize_note(note)
    for rule in rules:
        if rule == "note_missing":
            if not text:
                return _refusal(rule, recipient)
        elif rule == "note_too_short":
            chars, words = len(text), count_words(text)
            if chars < MIN_CHARS or words < MIN_WORDS:
                return _refusal(rule, recipient, chars=chars, words=words)
        elif rule == "note_generic":
            score, canned = await notes_db.max_canned_similarity(db, text)
            if canned is not None and score >= GENERIC_THRESHOLD:
                return _refusal(rule, recipient, canned=canned)
        elif rule == "note_repeated":
            score, others = await notes_db.max_repeat_similarity(
                db,
                sender_id,
                recipient_id,
                text,
                since=now - REPEAT_WINDOW,
                threshold=REPEAT_THRESHOLD,
            )
            if score >= REPEAT_THRESHOLD:
                return _refusal(rule, recipient, others=others)
        elif rule == "note_impersonal" and not find_mentions(recipient, text):
            return _refusal(rule, recipient)
    return None
