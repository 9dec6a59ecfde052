"""The shared vocabulary of motives: why a member is here.

It is fixed, so that instances can match on it; nothing in it is a job or a profession.
The three sensitive motives are private by default: shown only to accepted followers,
never federated publicly, never used to list a member in the directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "MOTIVES",
    "MOTIVE_KEYS",
    "Motive",
    "is_sensitive",
    "motive_labels",
    "normalize_motives",
]


@dataclass(frozen=True, slots=True)
class Motive:
    key: str
    label: str
    description: str
    sensitive: bool = False


MOTIVES: Final[tuple[Motive, ...]] = (
    Motive("professional", "professional", "Work, craft and career: meeting peers and mentors."),
    Motive(
        "shared-interests",
        "shared interests",
        "Talking with people who care about the same things.",
    ),
    Motive("hobbies", "hobbies", "Doing things together: making, playing, collecting."),
    Motive(
        "spiritual",
        "a spiritual path",
        "Faith, meditation, philosophy: walking a path with others.",
        sensitive=True,
    ),
    Motive("friendship", "friendship", "New friends, near or far."),
    Motive("life-partner", "a life partner", "Looking for someone to share a life with.", True),
    Motive(
        "support",
        "peer support",
        "Caregiving, living with illness or disability: people who understand.",
        sensitive=True,
    ),
    Motive("local", "local community", "People nearby: neighbours, local groups."),
)

MOTIVE_KEYS: Final[tuple[str, ...]] = tuple(m.key for m in MOTIVES)
_BY_KEY: Final = {m.key: m for m in MOTIVES}


def normalize_motives(values: object) -> list[str]:
    """Known motive keys from ``values`` (a string or a list), deduplicated, in vocabulary
    order; anything else is dropped."""
    items = [values] if isinstance(values, str) else values if isinstance(values, list) else []
    chosen = {str(v).strip().lower() for v in items if isinstance(v, str)}
    return [key for key in MOTIVE_KEYS if key in chosen]


def motive_labels(keys: list[str]) -> list[str]:
    return [_BY_KEY[k].label for k in keys if k in _BY_KEY]


def is_sensitive(key: str) -> bool:
    motive = _BY_KEY.get(key)
    return motive is not None and motive.sensitive
