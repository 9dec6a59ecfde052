"""Instance settings an admin edits (the ``instance_settings`` table), checked here once
for the command line and the admin pages alike.

* ``registration_mode``: ``open``, ``approved`` (sign-ups wait for an admin), ``invite``
  (only with an invitation) or ``closed``; read by NodeInfo and the instance API.
* ``sending_limits``: follow requests a member may send a day (``per_day``), and a
  younger account (``new_per_day``, for its first ``new_account_days``); read by
  :mod:`fedinet.services.follows`.
* ``rules``: a list of ``{"text", "hint"}``, served by ``/api/v1/instance/rules``.
* ``title``, ``short_description``, ``description``, ``contact_email``: texts the instance
  API and pages show.

The canned-invitation list the "generic note" rule compares against has its own table
(:mod:`fedinet.db.notes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fedinet.db import instance as instance_db
from fedinet.db import notes as notes_db
from fedinet.db.notes import CannedInvitation
from fedinet.db.types import Connection, Executor
from fedinet.errors import NotFound, ValidationError
from fedinet.services.accounts import validate_email
from fedinet.services.follows import DEFAULT_SENDING_LIMITS
from fedinet.services.registrations import REGISTRATION_MODES, registration_mode

__all__ = [
    "INSTANCE_TEXTS",
    "MAX_RULES",
    "REGISTRATION_MODES",
    "SENDING_LIMIT_NAMES",
    "Rule",
    "add_canned_invitation",
    "add_rule",
    "get_instance_texts",
    "get_registration_mode",
    "get_rules",
    "get_sending_limits",
    "list_canned_invitations",
    "remove_canned_invitation",
    "remove_rule",
    "set_instance_text",
    "set_instance_texts",
    "set_registration_mode",
    "set_rules",
    "set_sending_limits",
]

SENDING_LIMIT_NAMES: Final = ("per_day", "new_per_day", "new_account_days")
MAX_SENDING_LIMIT: Final = 10_000
MAX_RULES: Final = 50
MAX_RULE_TEXT: Final = 300
MAX_RULE_HINT: Final = 1000
INSTANCE_TEXTS: Final[dict[str, int]] = {
    "title": 100,
    "short_description": 500,
    "description": 5000,
    "contact_email": 254,
}
"""Free-text settings and their maximum length."""


@dataclass(frozen=True, slots=True)
class Rule:
    text: str
    hint: str = ""


# --------------------------------------------------------------------------- registration


async def get_registration_mode(db: Executor) -> str:
    return await registration_mode(db)


async def set_registration_mode(db: Executor, mode: str) -> str:
    cleaned = mode.strip().lower()
    if cleaned not in REGISTRATION_MODES:
        raise ValidationError(
            f"registration mode must be one of {', '.join(REGISTRATION_MODES)}, got {mode!r}",
            field="registration_mode",
        )
    await instance_db.set_instance_setting(db, "registration_mode", cleaned)
    return cleaned


# --------------------------------------------------------------------------- sending limits


async def get_sending_limits(db: Executor) -> dict[str, int]:
    stored = await instance_db.get_instance_setting(db, "sending_limits")
    limits = dict(DEFAULT_SENDING_LIMITS)
    if isinstance(stored, Mapping):
        for name in SENDING_LIMIT_NAMES:
            value = stored.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                limits[name] = value
    return limits


def _limit(name: str, value: Any) -> int:
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise ValidationError(f"{name} must be a whole number, got {value!r}", field=name)
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(f"{name} must be a whole number", field=name)
    if not 0 <= value <= MAX_SENDING_LIMIT:
        raise ValidationError(f"{name} must be between 0 and {MAX_SENDING_LIMIT}", field=name)
    return value


async def set_sending_limits(db: Executor, changes: Mapping[str, Any]) -> dict[str, int]:
    """Change some of the limits (``per_day``, ``new_per_day``, ``new_account_days``);
    returns them all. A younger account may not get more than an older one."""
    unknown = sorted(set(changes) - set(SENDING_LIMIT_NAMES))
    if unknown:
        raise ValidationError(f"unknown sending limit {unknown[0]!r}", field=unknown[0])
    limits = await get_sending_limits(db)
    for name, value in changes.items():
        limits[name] = _limit(name, value)
    if limits["new_per_day"] > limits["per_day"]:
        raise ValidationError(
            "new_per_day may not be more than per_day (new accounts get the lower limit)",
            field="new_per_day",
        )
    await instance_db.set_instance_setting(db, "sending_limits", limits)
    return limits


# --------------------------------------------------------------------------- rules


async def get_rules(db: Executor) -> list[Rule]:
    """The rules as stored (strings or ``{"text", "hint"}``), empty entries left out."""
    value = await instance_db.get_instance_setting(db, "rules")
    rules: list[Rule] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str) and item.strip():
            rules.append(Rule(item.strip()))
        elif isinstance(item, Mapping) and isinstance(item.get("text"), str):
            text = item["text"].strip()
            if text:
                rules.append(Rule(text, str(item.get("hint") or "").strip()))
    return rules


def _check_rule(rule: Rule) -> Rule:
    text = " ".join(rule.text.split())
    hint = rule.hint.strip()
    if not text:
        raise ValidationError("a rule needs some text", field="text")
    if len(text) > MAX_RULE_TEXT:
        raise ValidationError(f"a rule is at most {MAX_RULE_TEXT} characters", field="text")
    if len(hint) > MAX_RULE_HINT:
        raise ValidationError(f"a hint is at most {MAX_RULE_HINT} characters", field="hint")
    return Rule(text, hint)


async def set_rules(db: Executor, rules: list[Rule]) -> list[Rule]:
    checked = [_check_rule(rule) for rule in rules]
    if len(checked) > MAX_RULES:
        raise ValidationError(f"at most {MAX_RULES} rules", field="text")
    await instance_db.set_instance_setting(
        db, "rules", [{"text": rule.text, "hint": rule.hint} for rule in checked]
    )
    return checked


async def add_rule(db: Executor, text: str, hint: str = "") -> list[Rule]:
    return await set_rules(db, [*await get_rules(db), Rule(text, hint)])


async def remove_rule(db: Executor, number: int) -> list[Rule]:
    """Remove rule ``number`` (1-based, as listed and as the API numbers them)."""
    rules = await get_rules(db)
    if not 1 <= number <= len(rules):
        raise NotFound(f"there is no rule {number}", reason="no_rule")
    del rules[number - 1]
    return await set_rules(db, rules)


# --------------------------------------------------------------------------- texts


async def get_instance_texts(db: Executor) -> dict[str, str]:
    texts: dict[str, str] = {}
    for name in INSTANCE_TEXTS:
        value = await instance_db.get_instance_setting(db, name)
        texts[name] = value if isinstance(value, str) else ""
    return texts


def _check_text(name: str, value: str) -> str:
    if name not in INSTANCE_TEXTS:
        raise ValidationError(f"unknown instance setting {name!r}", field=name)
    cleaned = value.strip()
    if len(cleaned) > INSTANCE_TEXTS[name]:
        raise ValidationError(f"{name} is at most {INSTANCE_TEXTS[name]} characters", field=name)
    if name == "contact_email" and cleaned:
        try:
            cleaned = validate_email(cleaned)
        except ValidationError as exc:
            raise ValidationError(str(exc), field=name) from None
    return cleaned


async def set_instance_text(db: Executor, name: str, value: str) -> str:
    cleaned = _check_text(name, value)
    await instance_db.set_instance_setting(db, name, cleaned)
    return cleaned


async def set_instance_texts(conn: Connection, values: Mapping[str, str]) -> dict[str, str]:
    """Set several texts at once: all are checked before any is written."""
    cleaned = {name: _check_text(name, value) for name, value in values.items()}
    async with conn.transaction():
        for name, value in cleaned.items():
            await instance_db.set_instance_setting(conn, name, value)
    return cleaned


# --------------------------------------------------------------------------- canned list


async def list_canned_invitations(db: Executor) -> list[CannedInvitation]:
    return await notes_db.list_canned_invitations(db)


async def add_canned_invitation(db: Executor, text: str) -> CannedInvitation:
    if len(text) > 2000:
        raise ValidationError("a canned invitation is at most 2000 characters", field="text")
    return await notes_db.add_canned_invitation(db, text)


async def remove_canned_invitation(db: Executor, invitation_id: int) -> None:
    if not await notes_db.remove_canned_invitation(db, invitation_id):
        raise NotFound(f"there is no canned invitation #{invitation_id}", reason="no_canned")
