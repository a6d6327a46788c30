"""The classifieds (classifieds.test, `__CLASSIFIEDS__`), an osclass look-alike with `index.php?page=` URLs.

Pages: `index.php` (home), `?page=search&sPattern=&sCity=&sCategory=&sPriceMin=&sPriceMax=&sOrder=&iOrderType=&iPage=`,
`?page=item&id=N`, `?page=item&action=item_add|item_edit|item_delete|add_comment|contact`,
`?page=user&action=items|pub_profile`, `?page=login`, `?page=logout`, and `POST ?page=reset` with
`token` (VisualWebArena's reset), besides `/__reset__`. Photos live under `/oc-content/uploads/`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..app import NotFound, SiteApp
from ..images import is_valid_key, picture
from ..markup import Markup, el, field_input, field_select, field_textarea, frag, money, plural, post_button
from ..store import DEFAULT_INSTANCE, INSTANCE_COOKIE, clean_instance
from ..web import Request, Response
from . import listings
from . import views as v

SEEDED_SESSION = "classifieds-seeded-session-alex"
RESET_TOKEN = "webdreamer-classifieds-reset"
BICYCLE_PHOTO = "bicycle-red-city"


def _now() -> str:
    return datetime.now().replace(microsecond=0).isoformat(" ")


def write_bicycle_photo(path: str | Path) -> Path:
    """Write the photo shared by listings 31 and 58 (the VWA-style task input image) to `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(picture(BICYCLE_PHOTO))
    return target


class ClassifiedsApp(SiteApp):
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

    def media(self, req: Request, key: str) -> Response:
        if not is_valid_key(key):
            raise NotFound("No such picture.")
        return Response.png(picture(key))

    # --- browsing ----------------------------------------------------------------------------
    def home(self, req: Request) -> Response:
        cats = req.db.execute(
            "SELECT c.*, COUNT(i.id) AS n FROM categories c LEFT JOIN items i ON i.category_id = c.id GROUP BY c.id ORDER BY c.id"
        ).fetchall()
        latest = req.db.execute(f"{v.ITEM_SQL} ORDER BY i.pub_date DESC, i.id DESC LIMIT 12").fetchall()
        search_box = el(
            "form",
            el("input", type="hidden", name="page", value="search"),
            field_input("home-pattern", "What are you looking for?", name="sPattern"),
            field_select(
                "home-city", "City", [("", "All cities")] + [(c, c) for c in listings.CITIES], name="sCity"
            ),
            field_select(
                "home-category",
                "Category",
                [("", "All categories"), *v.category_options(req.db)],
                name="sCategory",
            ),
            el("button", "Find listings", type="submit"),
            method="get",
            action="index.php",
            class_="card",
            aria_label="Find listings",
        )
        body = frag(
            el("h1", "Buy and sell anything near you"),
            search_box,
            el(
                "section",
                el("h2", "Categories"),
                el(
                    "ul",
                    [
                        el("li", el("a", c["name"], href=v.search_url(sCategory=c["id"])), f" ({c['n']})")
                        for c in cats
                    ],
                    class_="plain categories",
                ),
                aria_label="Categories",
            ),
            el(
                "section",
                el("h2", "Latest listings"),
                v.listing_cards(latest, "latest-listings"),
                aria_label="Latest listings",
            ),
        )
        return self.page(req, "Home", body)

    def search(self, req: Request) -> Response:
        rows = v.search(req.db, req)
        page_no = max(1, req.int_arg("iPage", 1) or 1)
        shown = rows[(page_no - 1) * v.PAGE_SIZE : page_no * v.PAGE_SIZE]
        keep = {
            k: req.arg(k)
            for k in ("sPattern", "sCategory", "sCity", "sPriceMin", "sPriceMax", "sOrder", "iOrderType")
        }
        pager = [
            el("a", "Previous page", href=v.search_url(**keep, iPage=page_no - 1)) if page_no > 1 else None,
            el("span", f"Page {page_no} of {max(1, -(-len(rows) // v.PAGE_SIZE))}"),
            el("a", "Next page", href=v.search_url(**keep, iPage=page_no + 1))
            if page_no * v.PAGE_SIZE < len(rows)
            else None,
        ]
        results = frag(
            el("h1", "Search results"),
            el("p", f"{plural(len(rows), 'listing')} found", class_="muted result-count"),
            v.sort_links(req),
            v.listing_cards(shown) if rows else el("p", "No listings match your search. Try fewer filters."),
            el("nav", pager, class_="pager", aria_label="Pages"),
        )
        body = el("div", v.filters(req.db, req), el("section", results), class_="layout2")
        return self.page(req, "Search results", body)

    def item_page(self, req: Request) -> Response:
        it = v.item(req.db, req.int_arg("id"))
        if it is None:
            raise NotFound("This listing does not exist or has been removed.")
        item_id = it["id"]
        photos = req.db.execute(
            "SELECT picture FROM item_photos WHERE item_id = ? ORDER BY position", (item_id,)
        ).fetchall()
        comments = req.db.execute(
            "SELECT c.*, u.username AS author FROM comments c JOIN users u ON u.id = c.user_id WHERE item_id = ? ORDER BY c.created, c.id",
            (item_id,),
        ).fetchall()
        base = f"index.php?page=item&id={item_id}"
        mine = req.user is not None and req.user["id"] == it["user_id"]
        owner_tools = (
            el(
                "p",
                el("a", "Edit listing", href=f"index.php?page=item&action=item_edit&id={item_id}"),
                " ",
                post_button(
                    f"index.php?page=item&action=item_delete&id={item_id}",
                    "Delete listing",
                    class_="secondary",
                ),
            )
            if mine
            else None
        )
        comment_form = (
            el(
                "form",
                el("h3", "Leave a comment"),
                field_input("comment_title", "Title", name="title", required=True),
                field_textarea("comment_body", "Comment", name="body", required=True, rows=3),
                el("button", "Add comment", type="submit"),
                method="post",
                action=f"index.php?page=item&action=add_comment&id={item_id}",
                class_="card",
            )
            if req.user is not None
            else el("p", el("a", "Log in to comment", href=f"/index.php?page=login&next=/{base}"))
        )
        contact = el(
            "form",
            el("h3", "Contact the seller"),
            field_input(
                "contact_name",
                "Your name",
                name="name",
                value=req.user["full_name"] if req.user else "",
                required=True,
            ),
            field_input(
                "contact_email",
                "Your email",
                name="email",
                kind="email",
                value=req.user["email"] if req.user else "",
                required=True,
            ),
            field_textarea("contact_message", "Message", name="message", required=True, rows=3),
            el("button", "Send message", type="submit"),
            method="post",
            action=f"index.php?page=item&action=contact&id={item_id}",
            class_="card",
        )
        body = frag(
            el(
                "nav",
                el("a", "Home", href="index.php"),
                " › ",
                el("a", it["category"], href=v.search_url(sCategory=it["category_id"])),
                " › ",
                it["title"],
                class_="crumbs",
                aria_label="Breadcrumb",
            ),
            el("h1", it["title"], class_="item-title"),
            el("p", v.price_text(it["price"]), class_="item-price listing-price", id="item-price"),
            el(
                "div",
                [
                    el("img", src=f"oc-content/uploads/{p['picture']}.png", alt=f"{it['title']}, photo {n}")
                    for n, p in enumerate(photos, 1)
                ],
                class_="item-photos",
            )
            if photos
            else el("p", "No photos.", class_="muted"),
            el(
                "dl",
                el("dt", "Category"),
                el("dd", it["category"], class_="item-category"),
                el("dt", "City"),
                el("dd", it["city"], class_="item-city"),
                el("dt", "Condition"),
                el("dd", it["condition"], class_="item-condition"),
                el("dt", "Published"),
                el("dd", it["pub_date"][:16], class_="item-date"),
                el("dt", "Seller"),
                el(
                    "dd",
                    el(
                        "a",
                        it["seller_name"],
                        href=f"index.php?page=user&action=pub_profile&id={it['user_id']}",
                    ),
                    class_="item-seller",
                ),
                class_="details card",
            ),
            el("h2", "Description"),
            el("p", it["description"], id="description", class_="item-description"),
            owner_tools,
            contact,
            el(
                "section",
                el("h2", plural(len(comments), "comment"), class_="comment-count"),
                el(
                    "ul",
                    [
                        el(
                            "li",
                            el("h3", c["title"]),
                            el("p", f"by {c['author']} on {c['created'][:16]}", class_="muted"),
                            el("p", c["body"], class_="comment-body"),
                            class_="comment",
                        )
                        for c in comments
                    ],
                    class_="plain comments",
                ),
                comment_form,
                aria_label="Comments",
            ),
        )
        return self.page(req, it["title"], body)

    # --- publishing --------------------------------------------------------------------------
    def item_form(self, req: Request) -> Response:
        user = self.require_user(req)
        editing = req.field("action") == "item_edit"
        existing = v.item(req.db, req.int_arg("id")) if editing else None
        if editing and (existing is None or existing["user_id"] != user["id"]):
            raise NotFound("You can only edit your own listings.")
        default = (
            dict(existing)
            if existing
            else {
                "title": "",
                "category_id": "",
                "price": "",
                "city": user["city"],
                "condition": "Used",
                "description": "",
                "picture": "",
            }
        )
        if existing and default["price"] is not None:
            default["price"] = f"{existing['price']:.2f}".rstrip("0").rstrip(".")
        values = {
            k: req.form[k][0].strip() if k in req.form else str(default[k] or "")
            for k in ("title", "category_id", "price", "city", "condition", "description", "picture")
        }
        if "photo" in req.form:
            values["picture"] = req.form["photo"][0]
        error = None
        if req.method == "POST":
            error = self._save_item(req, user, values, existing)
            if error is None:
                return self._after_save(existing, values)
        action = (
            f"index.php?page=item&action=item_edit&id={existing['id']}"
            if existing
            else "index.php?page=item&action=item_add"
        )
        form = el(
            "form",
            el("div", error, class_="flash error", role="alert") if error else None,
            field_input("title", "Title", value=values["title"], required=True, maxlength=120),
            field_select(
                "catId",
                "Category",
                [("", "Choose a category"), *v.category_options(req.db)],
                values["category_id"],
                name="category_id",
            ),
            field_input("price", "Price (USD)", value=values["price"], kind="number", min=0, step="0.01"),
            field_select("city", "City", [(c, c) for c in listings.CITIES], values["city"]),
            field_select(
                "condition", "Condition", [(c, c) for c in listings.CONDITIONS], values["condition"]
            ),
            field_textarea("description", "Description", value=values["description"], rows=5, required=True),
            v.photo_choices(values["picture"]),
            el("button", "Update listing" if existing else "Publish", type="submit", id="publish"),
            method="post",
            action=action,
            class_="card",
        )
        heading = "Edit your listing" if existing else "Publish a new listing"
        return self.page(req, heading, frag(el("h1", heading), form), status=400 if error else 200)

    def _save_item(
        self, req: Request, user: sqlite3.Row, values: dict[str, str], existing: sqlite3.Row | None
    ) -> str | None:
        category = req.db.execute(
            "SELECT id FROM categories WHERE id = ?", (values["category_id"],)
        ).fetchone()
        price: float | None = None
        if values["price"]:
            try:
                price = round(float(values["price"].replace(",", "").replace("$", "")), 2)
            except ValueError:
                return "The price must be a number."
        if not values["title"] or not values["description"]:
            return "Please give a title and a description."
        if category is None:
            return "Please choose a category."
        if values["city"] not in listings.CITIES or values["condition"] not in listings.CONDITIONS:
            return "Please choose a city and a condition."
        if values["picture"] and not is_valid_key(values["picture"]):
            return "Please choose one of the photos."
        fields = (
            category["id"],
            values["title"],
            values["description"],
            price,
            values["city"],
            values["condition"],
        )
        if existing:
            item_id = existing["id"]
            req.db.execute(
                "UPDATE items SET category_id=?, title=?, description=?, price=?, city=?, condition=? WHERE id=?",
                (*fields, item_id),
            )
        else:
            cur = req.db.execute(
                "INSERT INTO items(user_id, category_id, title, description, price, city, condition, pub_date) VALUES (?,?,?,?,?,?,?,?)",
                (user["id"], *fields, _now()),
            )
            item_id = int(cur.lastrowid or 0)
        req.db.execute("DELETE FROM item_photos WHERE item_id = ?", (item_id,))
        if values["picture"]:
            req.db.execute("INSERT INTO item_photos VALUES (?, 1, ?)", (item_id, values["picture"]))
        values["id"] = str(item_id)
        return None

    def _after_save(self, existing: sqlite3.Row | None, values: dict[str, str]) -> Response:
        resp = Response.redirect(v.item_url(int(values["id"])))
        self.flash(resp, "Your listing has been updated." if existing else "Your listing has been published.")
        return resp

    def item_delete(self, req: Request) -> Response:
        user = self.require_user(req)
        it = v.item(req.db, req.int_arg("id"))
        if it is None or it["user_id"] != user["id"]:
            raise NotFound("You can only delete your own listings.")
        for table, column in (("items", "id"), ("item_photos", "item_id"), ("comments", "item_id")):
            req.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (it["id"],))
        resp = Response.redirect("index.php?page=user&action=items")
        self.flash(resp, "Your listing has been deleted.")
        return resp

    def add_comment(self, req: Request) -> Response:
        user = self.require_user(req)
        it = v.item(req.db, req.int_arg("id"))
        if it is None:
            raise NotFound("This listing does not exist.")
        title, body = req.field("title"), req.field("body")
        resp = Response.redirect(v.item_url(it["id"]))
        if not title or not body:
            self.flash(resp, "A comment needs a title and some text.")
            return resp
        req.db.execute(
            "INSERT INTO comments(item_id, user_id, title, body, created) VALUES (?,?,?,?,?)",
            (it["id"], user["id"], title, body, _now()),
        )
        self.flash(resp, "Your comment has been added.")
        return resp

    def contact(self, req: Request) -> Response:
        it = v.item(req.db, req.int_arg("id"))
        if it is None:
            raise NotFound("This listing does not exist.")
        name, email, message = req.field("name"), req.field("email"), req.field("message")
        resp = Response.redirect(v.item_url(it["id"]))
        if not (name and email and message):
            self.flash(resp, "Please give your name, your email and a message.")
            return resp
        req.db.execute(
            "INSERT INTO messages(item_id, sender_name, sender_email, body, created) VALUES (?,?,?,?,?)",
            (it["id"], name, email, message, _now()),
        )
        self.flash(resp, "Your message has been sent to the seller.")
        return resp

    # --- accounts ----------------------------------------------------------------------------
    def my_items(self, req: Request) -> Response:
        user = self.require_user(req)
        rows = req.db.execute(
            f"{v.ITEM_SQL} WHERE i.user_id = ? ORDER BY i.pub_date DESC, i.id DESC", (user["id"],)
        ).fetchall()
        messages = req.db.execute(
            "SELECT m.*, i.title FROM messages m JOIN items i ON i.id = m.item_id WHERE i.user_id = ? ORDER BY m.id DESC",
            (user["id"],),
        ).fetchall()
        table = el(
            "table",
            el(
                "thead",
                el("tr", [el("th", h, scope="col") for h in ("Listing", "Price", "City", "Published", "")]),
            ),
            el(
                "tbody",
                [
                    el(
                        "tr",
                        el("td", el("a", r["title"], href=v.item_url(r["id"])), class_="my-item-title"),
                        el("td", v.price_text(r["price"]), class_="my-item-price"),
                        el("td", r["city"]),
                        el("td", r["pub_date"][:10]),
                        el(
                            "td",
                            el(
                                "a",
                                "Edit",
                                href=f"index.php?page=item&action=item_edit&id={r['id']}",
                                aria_label=f"Edit {r['title']}",
                            ),
                        ),
                    )
                    for r in rows
                ],
            ),
            id="my-listings",
        )
        inbox = (
            el(
                "ul",
                [
                    el(
                        "li",
                        el("strong", m["title"]),
                        f": {m['body']} (from {m['sender_name']}, {m['sender_email']})",
                    )
                    for m in messages
                ],
                class_="plain",
                id="messages",
            )
            if messages
            else el("p", "No messages yet.")
        )
        body = frag(
            el("h1", "My listings"),
            el(
                "p",
                el("a", "Publish a new listing", href="index.php?page=item&action=item_add", class_="button"),
            ),
            table if rows else el("p", "You have no listings yet."),
            el("h2", "Messages from buyers"),
            inbox,
        )
        return self.page(req, "My listings", body)

    def profile(self, req: Request) -> Response:
        user = req.db.execute("SELECT * FROM users WHERE id = ?", (req.int_arg("id"),)).fetchone()
        if user is None:
            raise NotFound("There is no such seller.")
        rows = req.db.execute(
            f"{v.ITEM_SQL} WHERE i.user_id = ? ORDER BY i.pub_date DESC, i.id DESC", (user["id"],)
        ).fetchall()
        total = sum(r["price"] or 0 for r in rows)
        body = frag(
            el("h1", user["full_name"]),
            el(
                "p",
                f"{user['city']} · {plural(len(rows), 'listing')} · asking {money(total)} in total",
                class_="muted",
            ),
            v.listing_cards(rows, "seller-listings"),
        )
        return self.page(req, user["full_name"], body)


def create_app() -> ClassifiedsApp:
    return ClassifiedsApp()
