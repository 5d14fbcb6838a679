"""The notebook login panel: a small ipywidgets view over a plain model of a :class:`Login`.

Only this module imports ipywidgets. It imports :mod:`esiframe.auth`, never the reverse: the code
that hands a Login to a user sets ``login.view = panel``, and the Login shows that view when
displayed in a Jupyter kernel. :class:`LoginPanelModel` holds what the panel shows and reacts to
the login (also when the loopback callback completes it on another thread), so it is testable
without a browser or a kernel; :class:`LoginPanel` mirrors it into widgets.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .auth import Character, Login, LoginStatus
from .errors import EsiError

__all__ = ["LoginPanel", "LoginPanelModel", "panel"]

_LINK_STYLE = (
    "display:inline-block;padding:6px 14px;border-radius:4px;background:#1f6feb;"
    "color:#fff;text-decoration:none;font-weight:600"
)


class LoginPanelModel:
    """What the login panel shows: status, status text, character and portrait; no widgets.

    ``submit(pasted_url)`` is the paste path; a URL that does not complete the login leaves the
    login waiting and shows why in ``text``.
    """

    def __init__(self, login: Login) -> None:
        self.login = login
        self.note = ""
        self._listeners: list[Callable[[LoginPanelModel], None]] = []
        login.add_listener(self._login_changed)

    @property
    def status(self) -> LoginStatus:
        return self.login.status

    @property
    def character(self) -> Character | None:
        return self.login.character

    @property
    def portrait_url(self) -> str | None:
        character = self.login.character
        return character.portrait_url if character is not None else None

    @property
    def text(self) -> str:
        """The status line, as plain text."""
        if self.login.character is not None:
            c = self.login.character
            return f"Logged in as {c.name} ({c.character_id}) with {len(c.scopes)} scope(s)."
        if self.login.error is not None:
            return f"Login failed: {self.login.error}"
        if self.note:
            return f"That URL did not complete the login: {self.note}"
        if self.login.loopback:
            return (
                "Waiting for you to approve the login in the browser. On a remote kernel, "
                "paste the URL the browser lands on below and press Finish."
            )
        return "After approving in the browser, paste the URL it lands on below and press Finish."

    def add_listener(self, listener: Callable[[LoginPanelModel], None]) -> None:
        """Call ``listener(model)`` after every change."""
        self._listeners.append(listener)

    def submit(self, pasted: str) -> None:
        """Finish the login with a pasted redirect URL; errors go to ``text``, not raised."""
        try:
            self.login.finish(pasted)
        except EsiError as exc:
            self.note = str(exc)
            self._notify()

    def _login_changed(self, login: Login) -> None:
        self.note = ""
        self._notify()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener(self)


class LoginPanel(widgets.VBox):  # type: ignore[misc]
    """A log-in link, a status line, a paste box with Finish, and the character once done."""

    def __init__(self, login: Login, **kwargs: Any) -> None:
        link = widgets.HTML(
            f'<a href="{html.escape(login.url)}" target="_blank" rel="noopener" '
            f'style="{_LINK_STYLE}">Log in with EVE Online</a>'
        )
        status = widgets.HTML()
        paste = widgets.Text(
            placeholder="…or paste the URL your browser was redirected to",
            layout=widgets.Layout(width="36em"),
        )
        finish = widgets.Button(description="Finish", button_style="primary")
        paste_row = widgets.HBox([paste, finish])
        character = widgets.HTML()
        super().__init__([link, status, paste_row, character], **kwargs)
        self.login_model = LoginPanelModel(login)
        self.link_html = link
        self.status_html = status
        self.paste_text = paste
        self.finish_button = finish
        self.paste_row = paste_row
        self.character_html = character
        finish.on_click(lambda _button: self.login_model.submit(paste.value))
        self.login_model.add_listener(self._render)
        self._render(self.login_model)

    def _render(self, model: LoginPanelModel) -> None:
        colour = {"waiting": "inherit", "done": "#1a7f37", "error": "#cf222e"}[model.status]
        self.status_html.value = f'<span style="color:{colour}">{html.escape(model.text)}</span>'
        if model.character is not None and model.portrait_url is not None:
            self.paste_row.layout.display = "none"
            self.link_html.layout.display = "none"
            self.character_html.value = (
                f'<img src="{html.escape(model.portrait_url)}" width="64" height="64" alt="" '
                'style="vertical-align:middle;margin-right:8px" '
                # offline (the sandbox, a plane) the image server is unreachable: no broken box
                "onerror=\"this.style.display='none'\">"
                f"<b>{html.escape(model.character.name)}</b>"
            )
        elif model.status == "error":
            self.paste_row.layout.display = "none"


def panel(login: Login) -> LoginPanel:
    """The notebook view of ``login`` (what :attr:`Login.view` is set to)."""
    return LoginPanel(login)
