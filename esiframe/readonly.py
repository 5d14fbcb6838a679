"""Which ESI operations only read: every GET, and the POSTs that look things up.

This is the one place that decides it; the client, the sandbox, the CLI,
``describe`` and the docs all ask here. A POST is read-only when ESI uses the
method only to carry a request body (a list of ids, a route's options) and
the call changes nothing in EVE (docs/esi.md §1.9). Every other POST, PUT and
DELETE writes to the game, and esiframe refuses it before any request.
"""

from __future__ import annotations

__all__ = ["READ_ONLY_POSTS", "changes_data_message", "is_read_only", "read_only_text"]

#: The POSTs that only read, with what each looks up (for messages and docs).
READ_ONLY_POSTS: dict[str, str] = {
    "PostUniverseNames": "names and categories of ids",
    "PostUniverseIds": "ids of names",
    "PostCharactersAffiliation": "corporation, alliance and faction of characters",
    "PostRoute": "the route planner: systems between two systems (avoid list, connections, "
    "preference, security penalty in the body)",
    "PostCharactersCharacterIdAssetsNames": "names of a character's assets",
    "PostCharactersCharacterIdAssetsLocations": "positions of a character's assets",
    "PostCorporationsCorporationIdAssetsNames": "names of a corporation's assets",
    "PostCorporationsCorporationIdAssetsLocations": "positions of a corporation's assets",
    "PostCharactersCharacterIdCspa": "the CSPA charge to mail characters",
}


def is_read_only(method: str, operation_id: str) -> bool:
    """True for a GET, and for a POST listed in :data:`READ_ONLY_POSTS`."""
    verb = method.upper()
    return verb == "GET" or (verb == "POST" and operation_id in READ_ONLY_POSTS)


def read_only_text() -> str:
    """One sentence naming the read-only POSTs, for error messages and help."""
    return "esiframe only reads: every GET operation, and the POSTs that only look things up: " + (
        ", ".join(READ_ONLY_POSTS) + "."
    )


def changes_data_message(operation_id: str, method: str) -> str:
    """The refusal for an operation that writes to EVE (raised before any request)."""
    return f"{operation_id} ({method.upper()}) changes data in EVE; {read_only_text()}"
