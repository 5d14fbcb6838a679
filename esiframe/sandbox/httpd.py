"""The sandbox's HTTP plumbing: bytes in, `SandboxRequest` to the sandbox, bytes out.

`wire` says what an answer looks like on the wire (also for the in-process `Sandbox.answer`);
`Server` and `Handler` are a threading HTTP/1.1 server on 127.0.0.1 that can close every open
connection when stopped.
"""

from __future__ import annotations

import contextlib
import http
import logging
import socket
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from esiframe.sandbox.messages import SandboxRequest, SandboxResponse

__all__ = ["MAX_BODY", "Answers", "Handler", "Server", "wire"]

logger = logging.getLogger("esiframe.sandbox")
MAX_BODY = 1 << 20
_REASONS = {420: "Error Limited"}


class Answers(Protocol):
    """What the HTTP server needs of the sandbox behind it."""

    def handle(self, request: SandboxRequest) -> SandboxResponse | None: ...


def wire(response: SandboxResponse, method: str) -> tuple[int, dict[str, str], bytes]:
    """What goes on the wire for ``response``: status, headers with Content-Length, body.

    No body for HEAD, 1xx, 204 and 304; a cut answer keeps the full Content-Length but carries
    only half the body (the connection is then closed).
    """
    headers = dict(response.headers)
    has_body = response.status not in (204, 304) and not 100 <= response.status < 200
    if not has_body:
        return response.status, headers, b""
    headers["Content-Length"] = str(len(response.body))
    payload = response.body if method != "HEAD" else b""
    if response.cut:
        payload = payload[: len(payload) // 2]
    return response.status, headers, payload


def _reason(status: int) -> str:
    reason = _REASONS.get(status)
    if reason is not None:
        return reason
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: Answers
    ) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the sandbox keeps its own RequestLog."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._write(SandboxResponse.json({"error": "request body too large"}, 413))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = SandboxRequest(
            method=self.command,
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
            client=str(self.client_address[0]),
        )
        try:
            response = self.server.sandbox.handle(request)
        except Exception as error:
            logger.exception("sandbox failed on %s %s", self.command, self.path)
            response = SandboxResponse.json({"error": f"sandbox internal error: {error!r}"}, 500)
        if response is None:
            self.close_connection = True
            return
        self._write(response)

    def _write(self, response: SandboxResponse) -> None:
        if self.close_connection:
            response = replace(response, headers={**response.headers, "Connection": "close"})
        status, headers, payload = wire(response, self.command)
        if response.cut:
            self.close_connection = True
        lines = [f"HTTP/1.1 {status} {_reason(status)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch
