"""The loopback callback: a one-shot HTTP server on 127.0.0.1/localhost/[::1] for one Login.

The browser's redirect after approval (docs/esi.md §8.3) lands here with ``?code=&state=``;
the server hands the query to :meth:`Login._complete` and shows a small page. Each connection is
served on its own thread, so an idle or slow connection (a browser's speculative preconnect) never
holds up the redirect. Nothing is logged: the URL carries the authorization code.
"""

from __future__ import annotations

import html
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import AuthError, EsiError, TokenInvalid
from .login import Login

__all__ = ["LOOPBACK_HOSTS", "CallbackServer"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Seconds one connection may stay silent before its thread closes it.
CONNECTION_TIMEOUT = 10.0

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>esiframe login</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h2>{title}</h2><p>{text}</p></body></html>"
)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackHTTPServer
    timeout = CONNECTION_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the callback URL carries the authorization code."""

    def do_GET(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        if parts.path != owner.path:
            self._page(404, "Not found", "This is esiframe's login callback.")
            return
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            character = owner.login._complete(query)
        except TokenInvalid as exc:
            self._page(400, "Not this login", html.escape(str(exc)))
        except EsiError as exc:
            self._page(400, "Login failed", html.escape(str(exc)))
        else:
            self._page(
                200,
                f"Logged in as {html.escape(character.name)}",
                "esiframe has the login; you can close this tab.",
            )

    def _page(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=title, text=text).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class _CallbackHTTPServer(ThreadingMixIn, HTTPServer):
    """Bound exclusively (no SO_REUSEADDR: a port in use is an error, not a shared port); one
    daemon thread per connection, not joined on close."""

    allow_reuse_address = False
    allow_reuse_port = False
    daemon_threads = True
    block_on_close = False
    owner: CallbackServer


class _CallbackHTTPServer6(_CallbackHTTPServer):
    address_family = socket.AF_INET6


class CallbackServer:
    """Serve ``login``'s callback on ``host:port`` at ``path`` until done or ``lifetime`` ends.

    Starting it attaches its :meth:`stop` to the login, so completing or cancelling the login
    closes the port; when ``lifetime`` passes first the login ends with an error.
    """

    def __init__(self, login: Login, host: str, port: int, path: str, lifetime: float) -> None:
        self.login = login
        self.path = path
        server_class = _CallbackHTTPServer6 if ":" in host else _CallbackHTTPServer
        try:
            self._server = server_class((host, port), _CallbackHandler)
        except OSError as exc:
            raise AuthError(
                f"cannot listen on {host}:{port} for the login callback ({exc.strerror}); another "
                "program (or another login) holds it. Finish or cancel that login, use a "
                "callback_url with a free port that your application registers, or pass "
                "loopback=False and paste the redirect URL"
            ) from None
        self._server.owner = self
        self._server.timeout = 0.1
        self._stop = threading.Event()
        self._lifetime = lifetime
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(
            target=self._serve, name=f"esiframe-login-{port}", daemon=True
        )
        login._stopper = self.stop
        self._thread.start()

    def _serve(self) -> None:
        try:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                self._server.handle_request()
        finally:
            self._server.server_close()
        if not self._stop.is_set():
            self.login._stopper = None
            self.login._give_up(f"no login callback arrived within {self._lifetime:g} s")

    def stop(self) -> None:
        """Close the port (waits for the serving loop unless called from a handler)."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()
