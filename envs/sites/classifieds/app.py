"""The classifieds (classifieds.test, `__CLASSIFIEDS__`), an osclass look-alike with `index.php?page=` URLs.

Pages: `index.php` (home), `?page=search&sPattern=&sCity=&sCategory=&sPriceMin=&sPriceMax=&sOrder=&iOrderType=&iPage=`,
`?page=item&id=N`, `?page=item&action=item_add|item_edit|item_delete|add_comment|contact`,
`?page=user&action=items|pub_profile`, `?page=login`, `?page=logout`, and `POST ?page=reset` with
`token` (VisualWebArena's reset), besides `/__reset__`. Photos live under `/oc-content/uploads/`.
The pages live in `browse.py` (home, search, listing, seller profile) and `publish.py` (listing
forms, comments, messages, my listings); the seed is built by `listings.py` from `listings.json`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..app import NotFound
from ..images import picture
from ..markup import Markup
from ..store import DEFAULT_INSTANCE, INSTANCE_COOKIE, clean_instance
from ..web import Request, Response
from . import listings
from . import views as v
from .browse import BrowsePages
from .publish import PublishPages

SEEDED_SESSION = "classifieds-seeded-session-alex"
RESET_TOKEN = "webdreamer-classifieds-reset"
BICYCLE_PHOTO = "bicycle-red-city"


def write_bicycle_photo(path: str | Path) -> Path:
    """Write the photo shared by listings 31 and 58 (the VWA-style task input image) to `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(picture(BICYCLE_PHOTO))
    return target


class ClassifiedsApp(BrowsePages, PublishPages):
    name = "classifieds"
    title = "Classifieds"
    accent = "#1d6b3a"
    extra_css = v.CSS
    login_path = "/index.php?page=login"
    seeded_session = SEEDED_SESSION

    def build_seed(self, db: sqlite3.Connection) -> None:
        listings.build(db)

    def header(self, req: Request) -> Markup:
        return v.header(req, self.title)

    def register_routes(self) -> None:
        self.pages: dict[tuple[str, str, str], Callable[[Request], Response]] = {
            ("GET", "", ""): self.home,
            ("GET", "search", ""): self.search,
            ("GET", "item", ""): self.item_page,
            ("GET", "item", "item_add"): self.item_form,
            ("POST", "item", "item_add"): self.item_form,
            ("GET", "item", "item_edit"): self.item_form,
            ("POST", "item", "item_edit"): self.item_form,
            ("POST", "item", "item_delete"): self.item_delete,
            ("POST", "item", "add_comment"): self.add_comment,
            ("POST", "item", "contact"): self.contact,
            ("GET", "user", "items"): self.my_items,
            ("GET", "user", "pub_profile"): self.profile,
            ("GET", "login", ""): lambda req: self.login_page(req),
            ("POST", "login", ""): self.login_submit,
            ("POST", "logout", ""): lambda req: self.logout(req, "index.php"),
        }
        self.router.add("GET POST", "/", self.dispatch)
        self.router.add("GET POST", "/index.php", self.dispatch)
        self.router.add("GET", "/oc-content/uploads/<key>.png", self.media)

    def handle(self, req: Request) -> Response:
        # VWA resets with `POST index.php?page=reset` and a token; it must not run under the instance lock.
        if req.method == "POST" and req.path in ("/", "/index.php") and req.field("page") == "reset":
            if req.field("token") != RESET_TOKEN:
                return Response.text("Invalid reset token", 403)
            instance = clean_instance(
                req.field("instance") or req.cookies.get(INSTANCE_COOKIE) or DEFAULT_INSTANCE
            )
            self.reset(instance)
            return Response.text(f"Reset done for instance {instance}")
        return super().handle(req)

    def dispatch(self, req: Request) -> Response:
        handler = self.pages.get((req.method, req.field("page"), req.field("action")))
        if handler is None:
            if any(k[1:] == (req.field("page"), req.field("action")) for k in self.pages):
                return self.error_page(req, 405, "That address does not accept this kind of request.")
            raise NotFound("We could not find that page.")
        return handler(req)


def create_app() -> ClassifiedsApp:
    return ClassifiedsApp()
