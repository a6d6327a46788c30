"""The classifieds' pages for posting: publish, edit and delete a listing, comment on one, contact
its seller, and the seller's own listings with the messages from buyers.
"""

from __future__ import annotations

import sqlite3

from ..app import NotFound, SiteApp, now
from ..images import is_valid_key
from ..markup import el, field_input, field_select, field_textarea, frag
from ..web import Request, Response
from . import listings
from . import views as v


class PublishPages(SiteApp):
    """What a logged-in seller (or a buyer writing to one) does on `ClassifiedsApp`."""

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
                (user["id"], *fields, now()),
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
            (it["id"], user["id"], title, body, now()),
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
            (it["id"], name, email, message, now()),
        )
        self.flash(resp, "Your message has been sent to the seller.")
        return resp

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
