"""``GET /meta/openapi.json``: the sandbox's one spec document, served for a resolved date.

ESI resolves a requested compatibility date down to the newest published date not after it
(docs/esi.md §2); no date asks for the oldest. The sandbox has one document and serves it with
``info.version`` (and the X-Compatibility-Date enum) set to the resolved date.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from esiframe.sandbox.headers import etag_matches, etag_of, http_date
from esiframe.sandbox.messages import SandboxRequest, SandboxResponse

__all__ = ["VARY", "OpenApiDocuments"]

VARY = "Accept-Language, X-Compatibility-Date, X-Tenant"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class OpenApiDocuments:
    """Serves ``document`` per resolved date, encoding each date's copy once."""

    def __init__(self, document: Mapping[str, Any], dates: list[str]) -> None:
        self._document = document
        self._dates = dates  # newest first
        self._encoded: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def resolve(self, requested: str | None, today: str) -> str | None:
        """The published date a request gets (None: not a usable date)."""
        if requested is None:
            return self._dates[-1]
        if not _DATE.fullmatch(requested) or requested > today:
            return None
        return next((day for day in self._dates if day <= requested), None)

    def answer(self, request: SandboxRequest, today: str, generated_at: float) -> SandboxResponse:
        requested = request.header("X-Compatibility-Date")
        if requested is None:
            values = request.query.get("compatibility_date")
            requested = values[0] if values else None
        headers = {"X-Esi-Request-Id": str(uuid.uuid4()), "Vary": VARY}
        resolved = self.resolve(requested, today)
        if resolved is None:
            message = (
                f"invalid compatibility date {requested!r}: use a date from {self._dates[-1]} "
                f"to today; published dates: {', '.join(self._dates)}"
            )
            return SandboxResponse.json({"error": message, "status": 400}, 400, headers)
        body = self._body(resolved)
        etag = etag_of(body)
        headers.update(
            {
                "Content-Type": "application/openapi+json",
                "Cache-Control": "public, max-age=600",
                "ETag": etag,
                "Last-Modified": http_date(generated_at),
                "X-Compatibility-Date": resolved,
            }
        )
        if_none_match = request.header("If-None-Match")
        if if_none_match is not None and etag_matches(if_none_match, etag):
            del headers["Content-Type"]
            return SandboxResponse(304, headers)
        return SandboxResponse(200, headers, body)

    def _body(self, resolved: str) -> bytes:
        with self._lock:
            body = self._encoded.get(resolved)
        if body is not None:
            return body
        document = dict(self._document)
        document["info"] = {**document.get("info", {}), "version": resolved}
        components = dict(document.get("components", {}))
        parameters = dict(components.get("parameters", {}))
        if "CompatibilityDate" in parameters:
            parameter = dict(parameters["CompatibilityDate"])
            parameter["schema"] = {**parameter.get("schema", {}), "enum": [resolved]}
            parameters["CompatibilityDate"] = parameter
            components["parameters"] = parameters
            document["components"] = components
        body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")
        with self._lock:
            self._encoded[resolved] = body
        return body
