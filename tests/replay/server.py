"""A local HTTP server that answers with recorded real ESI exchanges.

It listens on 127.0.0.1 on an ephemeral port and plays back what ESI sent:
the recorded status, the recorded headers (names as recorded, e.g. ``Etag``),
and the recorded JSON body. A request for another path, or without the query
values that were recorded, is answered 404 and noted in ``unexpected`` so a
test can tell a wrong URL from a wrong answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: Headers that describe the recorded transfer, not the answer; the local server sets its own.
TRANSFER_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}
)
#: Recorded query parameters ESI no longer has (docs/esi.md §11): not expected from a client.
GONE_QUERY = frozenset({"datasource", "language", "page", "token", "user_agent"})


def load(folder: Path) -> dict[str, dict[str, Any]]:
    """Every recorded exchange in ``folder``, by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*__*.json"))}


def header(exchange: Mapping[str, Any], name: str) -> Any:
    """A recorded response header, matched without regard to case."""
    for key, value in exchange["response_headers"].items():
        if key.lower() == name.lower():
            return value
    return None


def bare_etag(value: str | None) -> str | None:
    """An ETag without its weak marker and quotes, for comparing validators."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


@dataclass
class Playback:
    """What the server answers: a 200/404 exchange, and a 304 for a matching If-None-Match."""

    answer: Mapping[str, Any]
    not_modified: Mapping[str, Any] | None = None
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def pick(self, method: str, target: str, headers: Mapping[str, str]) -> Mapping[str, Any]:
        """The exchange that answers this request, or a 404 explaining the mismatch."""
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.requests.append((method, target, dict(headers)))
        wanted = self.answer
        problem = None
        if method != wanted["method"] or url.path != wanted["path"]:
            problem = f"{method} {url.path}, recorded {wanted['method']} {wanted['path']}"
        for name, value in wanted["query"].items():
            if name not in GONE_QUERY and query.get(name) != str(value):
                problem = f"query {name}={query.get(name)!r}, recorded {value!r}"
        if problem is not None:
            self.unexpected.append(problem)
            return {"status": 404, "response_headers": {}, "body": {"error": problem}}
        sent = headers.get("if-none-match")
        if self.not_modified is not None and sent is not None:
            recorded = self.not_modified["conditional_request_headers"]["If-None-Match"]
            if bare_etag(sent) == bare_etag(recorded):
                return self.not_modified
        return wanted


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._reply()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._reply()

    def _reply(self) -> None:
        playback = self.server.playback
        if playback is None:
            self.send_error(503, "nothing loaded")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        exchange = playback.pick(self.command, self.path, headers)
        body = exchange.get("body")
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(exchange["status"])
        for name, value in exchange["response_headers"].items():
            if name.lower() in TRANSFER_HEADERS:
                continue
            for one in value if isinstance(value, list) else [value]:
                self.send_header(name, str(one))
        if exchange["status"] != 304:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and exchange["status"] != 304:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reports what matters."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    playback: Playback | None = None


@contextmanager
def replay_server() -> Iterator[_Server]:
    """A running playback server; set ``.playback`` before each call."""
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def base_url(server: _Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"
