"""`SiteApp`: what the three sites share (instances, sessions, login, flash messages, pages).

A site subclasses it, builds its seed database and registers its routes; the base class picks the
data instance from the `wd_instance` cookie, holds that instance's lock for the whole request,
loads the logged-in user, and serves `/__health__` and `/__reset__`.
"""

from __future__ import annotations

import secrets
import sqlite3
import sys
import traceback
from datetime import datetime
from typing import ClassVar
from urllib.parse import quote, unquote

from .images import is_valid_key, picture
from .markup import Markup, document, el, field_input, frag, hidden
from .store import DEFAULT_INSTANCE, INSTANCE_COOKIE, InstanceStore, clean_instance, password_hash
from .web import Request, Response, Router, status_phrase


class NotFound(Exception):
    """Raised by a handler when the thing asked for does not exist (rendered as a 404 page)."""


class LoginRequired(Exception):
    """Raised by a handler that needs a logged-in user (redirects to the login page)."""


def safe_next(target: str, default: str = "/") -> str:
    """Only same-site relative targets, so `next=` cannot send the browser elsewhere."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def now() -> str:
    """The local time to the second, as the sites store it (`2025-01-04 09:00:00`)."""
    return datetime.now().replace(microsecond=0).isoformat(" ")


class SiteApp:
    """Base of the bundled sites; subclasses set the class attributes and fill in the hooks."""

    name: ClassVar[str]
    title: ClassVar[str]
    accent: ClassVar[str] = "#2f5d8a"
    extra_css: ClassVar[str] = ""
    login_path: ClassVar[str] = "/login"
    seeded_user: ClassVar[str] = "alex"
    seeded_session: ClassVar[str]

    def __init__(self) -> None:
        self.router = Router()
        self.store = InstanceStore(self._build)
        self.session_cookie = f"{self.name}_session"
        self.flash_cookie = f"{self.name}_flash"
        self.register_routes()

    # --- hooks -------------------------------------------------------------------------------
    def build_seed(self, db: sqlite3.Connection) -> None:
        """Create the schema (with a `users(id, username, password_hash, ...)` table) and rows."""
        raise NotImplementedError

    def register_routes(self) -> None:
        raise NotImplementedError

    def header(self, req: Request) -> Markup:
        """The site's top bar for this request (it may show the logged-in user)."""
        raise NotImplementedError

    # --- request handling --------------------------------------------------------------------
    def _build(self, db: sqlite3.Connection) -> None:
        self.build_seed(db)
        user = db.execute("SELECT id FROM users WHERE username = ?", (self.seeded_user,)).fetchone()
        db.execute("INSERT INTO sessions(token, user_id) VALUES (?, ?)", (self.seeded_session, user["id"]))

    def handle(self, req: Request) -> Response:
        if req.path == "/__health__":
            return Response.json({"ok": True, "site": self.name})
        if req.path == "/__reset__":
            if req.method != "POST":
                return Response.text("POST to reset", 405)
            instance = clean_instance(req.field("instance", DEFAULT_INSTANCE))
            self.reset(instance)
            return Response.json({"ok": True, "site": self.name, "instance": instance})
        req.instance = clean_instance(req.cookies.get(INSTANCE_COOKIE))
        try:
            with self.store.use(req.instance) as db:
                req.db = db
                self._load_session(req)
                return self._route(req)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return Response.text("Internal server error", 500)

    def _route(self, req: Request) -> Response:
        found = self.router.match(req.method, req.path)
        if not isinstance(found, tuple):
            if found is False:
                return self.error_page(req, 405, "That address does not accept this kind of request.")
            return self.error_page(req, 404, "We could not find that page.")
        handler, params = found
        try:
            return handler(req, **params)
        except NotFound as exc:
            return self.error_page(req, 404, str(exc) or "We could not find that page.")
        except LoginRequired:
            return Response.redirect(
                f"{self.login_path}{'&' if '?' in self.login_path else '?'}next={quote(req.full_path)}"
            )

    def reset(self, instance: str = DEFAULT_INSTANCE) -> None:
        self.store.reset(clean_instance(instance))

    # --- sessions ----------------------------------------------------------------------------
    def _load_session(self, req: Request) -> None:
        token = req.cookies.get(self.session_cookie)
        if not token:
            return
        row = req.db.execute("SELECT user_id FROM sessions WHERE token = ?", (token,)).fetchone()
        if row is None:
            return
        req.session = token
        if row["user_id"] is not None:
            req.user = req.db.execute("SELECT * FROM users WHERE id = ?", (row["user_id"],)).fetchone()

    def ensure_session(self, req: Request, resp: Response) -> str:
        """The visitor's session token, creating an anonymous one if needed (e.g. a guest cart)."""
        if req.session is None:
            req.session = secrets.token_urlsafe(18)
            req.db.execute("INSERT INTO sessions(token, user_id) VALUES (?, NULL)", (req.session,))
            resp.set_cookie(self.session_cookie, req.session)
        return req.session

    def require_user(self, req: Request) -> sqlite3.Row:
        if req.user is None:
            raise LoginRequired
        return req.user

    def on_login(self, req: Request, old_session: str | None, user_id: int) -> None:
        """Hook: move guest state (such as a cart) to the user who just logged in."""

    def login_page(self, req: Request, error: str | None = None, status: int = 200) -> Response:
        next_url = safe_next(req.field("next"), "/")
        form = el(
            "form",
            hidden("next", next_url),
            field_input(
                "username", "Username", value=req.field("username"), autocomplete="username", required=True
            ),
            field_input(
                "password", "Password", kind="password", autocomplete="current-password", required=True
            ),
            el("button", "Log in", type="submit"),
            method="post",
            action=self.login_path,
        )
        body = el(
            "section",
            el("h1", "Log in"),
            el("div", error, class_="flash error", role="alert") if error else None,
            form,
            el("p", f"Demo account: {self.seeded_user} / {self.seeded_user}pass", class_="muted"),
            class_="card login",
        )
        return self.page(req, "Log in", body, status=status)

    def login_submit(self, req: Request) -> Response:
        username, password = req.field("username"), req.field("password")
        user = req.db.execute(
            "SELECT id FROM users WHERE username = ? AND password_hash = ?",
            (username, password_hash(username, password)),
        ).fetchone()
        if user is None:
            return self.login_page(req, "Wrong username or password.", status=401)
        old = req.session
        token = secrets.token_urlsafe(18)
        req.db.execute("INSERT INTO sessions(token, user_id) VALUES (?, ?)", (token, user["id"]))
        self.on_login(req, old, user["id"])
        if old:
            req.db.execute("DELETE FROM sessions WHERE token = ? AND user_id IS NULL", (old,))
        resp = Response.redirect(safe_next(req.field("next"), "/"))
        resp.set_cookie(self.session_cookie, token)
        self.flash(resp, f"Welcome back, {username}!")
        return resp

    def logout(self, req: Request, to: str = "/") -> Response:
        if req.session:
            req.db.execute("DELETE FROM sessions WHERE token = ?", (req.session,))
        resp = Response.redirect(to)
        resp.delete_cookie(self.session_cookie)
        self.flash(resp, "You have been logged out.")
        return resp

    # --- pages -------------------------------------------------------------------------------
    def flash(self, resp: Response, message: str) -> None:
        """A one-time message shown on the next page (survives the redirect in a cookie)."""
        resp.set_cookie(self.flash_cookie, message)

    def page(self, req: Request, title: str, body: Markup, status: int = 200) -> Response:
        raw = req.cookies.get(self.flash_cookie)
        message = unquote(raw) if raw else None
        markup = document(
            f"{title} | {self.title}",
            header=self.header(req),
            body=body,
            accent=self.accent,
            extra_css=self.extra_css,
            flash=message,
        )
        resp = Response.html(markup, status)
        if raw:
            resp.delete_cookie(self.flash_cookie)
        return resp

    def media(self, req: Request, key: str) -> Response:
        """A picture by key, for the route each site gives its photos (`/media/<key>.png`, ...)."""
        if not is_valid_key(key):
            raise NotFound("No such picture.")
        return Response.png(picture(key))

    def error_page(self, req: Request, status: int, message: str) -> Response:
        body = frag(
            el("h1", status_phrase(status)),
            el("p", message),
            el("p", el("a", "Go to the home page", href="/")),
        )
        return self.page(req, status_phrase(status), body, status=status)
