"""The JSON-LD ``@context`` fedinet puts on the documents it emits.

Three published contexts, then one object of extension terms. The inline terms are the
ones Mastodon defines the same way (so Mastodon and its kin read them as they expect),
plus ``assertionMethod`` for FEP-521a keys: none of the published contexts below defines
it at the top level, so it is declared here with its Security Vocabulary IRI.

No standard term (``id``, ``type``, ``name``, ``publicKey``, ``Multikey`` …) is redefined.
Terms of fedinet's own live under the ``fedinet:`` prefix (``FEDINET_NS``): ``motives``,
``region`` and ``followNotePolicy`` on actors, ``motive`` and ``connectCode`` on Follow,
``refusalReason`` on Reject. FEDERATION.md specifies them.
"""

from __future__ import annotations

import copy
from typing import Any, Final

__all__ = [
    "ACTIVITYSTREAMS",
    "CONTEXT",
    "EXTENSION_TERMS",
    "FEDINET_NS",
    "MULTIKEY_V1",
    "PUBLIC",
    "SECURITY_V1",
    "TOOT_NS",
    "context",
]

ACTIVITYSTREAMS: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_V1: Final = "https://w3id.org/security/v1"
"""Defines ``publicKey``, ``owner`` and ``publicKeyPem`` (the RSA ``#main-key``)."""
MULTIKEY_V1: Final = "https://w3id.org/security/multikey/v1"
"""Defines ``Multikey``, ``controller`` and ``publicKeyMultibase`` (FEP-521a)."""

PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
TOOT_NS: Final = "http://joinmastodon.org/ns#"
FEDINET_NS: Final = "https://fedinet.social/ns#"

EXTENSION_TERMS: Final[dict[str, Any]] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": TOOT_NS,
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "schema": "http://schema.org#",
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
    "assertionMethod": {
        "@id": "https://w3id.org/security#assertionMethod",
        "@type": "@id",
        "@container": "@set",
    },
    "fedinet": FEDINET_NS,
    "motives": {"@id": "fedinet:motives", "@container": "@set"},
    "region": "fedinet:region",
    "followNotePolicy": "fedinet:followNotePolicy",
    "motive": "fedinet:motive",
    "connectCode": "fedinet:connectCode",
    "refusalReason": "fedinet:refusalReason",
}

CONTEXT: Final[list[Any]] = [ACTIVITYSTREAMS, SECURITY_V1, MULTIKEY_V1, EXTENSION_TERMS]


def context() -> list[Any]:
    """A fresh copy of :data:`CONTEXT`, safe to put in a document that may be mutated."""
    return copy.deepcopy(CONTEXT)
