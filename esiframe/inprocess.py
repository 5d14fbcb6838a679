"""An in-process ``requests`` adapter: answers come from a function, no socket is opened.

``Client(transport=InProcessAdapter(sandbox.answer))`` runs the whole client,
cache and limits included, against the offline sandbox in the same process,
so unit tests exercise the real pipeline without the network stack.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from http.client import responses as reasons
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

__all__ = ["Answer", "InProcessAdapter"]

#: answer(method, url, headers, body) -> (status, headers, body), or None for "no answer"
Answer = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, str], bytes] | None]


class InProcessAdapter(BaseAdapter):
    """A transport adapter whose answers come from ``answer`` (e.g. ``Sandbox.answer``).

    ``None`` from ``answer`` is a dropped connection (``requests.ConnectionError``),
    as a server closing the socket without a word.
    """

    def __init__(self, answer: Answer) -> None:
        super().__init__()
        self._answer = answer
        self._builder = HTTPAdapter()

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **_: Any
    ) -> requests.Response:
        body = request.body or b""
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        answered = self._answer(
            request.method or "GET", request.url or "", dict(request.headers), data
        )
        if answered is None:
            raise requests.ConnectionError(f"no answer from {request.url}", request=request)
        status, headers, content = answered
        raw = HTTPResponse(
            body=io.BytesIO(content),
            headers=dict(headers),
            status=status,
            reason=reasons.get(status, ""),
            preload_content=False,
            decode_content=True,
            request_url=request.url,
        )
        return self._builder.build_response(request, raw)

    def close(self) -> None:
        self._builder.close()
