"""The shop (shop.test, `__SHOPPING__`): catalogue, search, cart, checkout, orders and reviews.

URLs: `/`, `/category/<slug>?sort=`, `/search?q=&sort=`, `/product/<id>`, `/cart`, `/checkout`,
`/order/<id>`, `/account/orders`, `/login`, `/logout`, `/media/<picture>.png`.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date

from ..app import NotFound, SiteApp
from ..images import is_valid_key, picture
from ..markup import Markup, el, field_input, field_select, field_textarea, frag, hidden, money, plural, stars
from ..web import Request, Response
from . import catalog
from . import views as v

SEEDED_SESSION = "shop-seeded-session-alex"


def _terms(query: str) -> list[str]:
    """Lower-case search words; a trailing plural "s" is dropped so "mugs" finds "mug"."""
    words = re.findall(r"[\w'-]+", query.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


class ShopApp(SiteApp):
    name = "shop"
    title = "Corner Market"
    accent = "#b3471d"
    extra_css = v.CSS
    seeded_session = SEEDED_SESSION

    def build_seed(self, db: sqlite3.Connection) -> None:
        catalog.build(db)

    def header(self, req: Request) -> Markup:
        return v.header(req, self.title)

    def register_routes(self) -> None:
        r = self.router
        r.add("GET", "/", self.home)
        r.add("GET", "/category/<slug>", self.category)
        r.add("GET", "/search", self.search)
        r.add("GET", "/product/<int:product_id>", self.product_page)
        r.add("POST", "/product/<int:product_id>/review", self.add_review)
        r.add("GET", "/cart", self.cart)
        r.add("POST", "/cart/add", self.cart_add)
        r.add("POST", "/cart/update", self.cart_update)
        r.add("POST", "/cart/remove", self.cart_remove)
        r.add("GET POST", "/checkout", self.checkout)
        r.add("GET", "/order/<int:order_id>", self.order_page)
        r.add("GET", "/account", lambda req: Response.redirect("/account/orders"))
        r.add("GET", "/account/orders", self.orders)
        r.add("GET", "/login", lambda req: self.login_page(req))
        r.add("POST", "/login", self.login_submit)
        r.add("POST", "/logout", lambda req: self.logout(req))
        r.add("GET", "/media/<key>.png", self.media)

    # --- browsing ----------------------------------------------------------------------------
    def home(self, req: Request) -> Response:
        cats = req.db.execute(
            "SELECT c.*, COUNT(p.id) AS n FROM categories c LEFT JOIN products p ON p.category_id = c.id GROUP BY c.id ORDER BY c.id"
        ).fetchall()
        cards = [
            el(
                "li",
                el("h3", el("a", c["name"], href=f"/category/{c['slug']}")),
                el("p", c["description"]),
                el("p", plural(c["n"], "product"), class_="muted"),
                class_="card",
            )
            for c in cats
        ]
        newest = v.products(req.db, sort="newest")[:8]
        body = frag(
            el("h1", f"Welcome to {self.title}"),
            el(
                "section",
                el("h2", "Shop by category"),
                el("ul", cards, class_="grid"),
                aria_label="Shop by category",
            ),
            el(
                "section",
                el("h2", "New arrivals"),
                v.product_list(newest, "/", "new-arrivals", "New arrivals"),
                aria_label="New arrivals",
            ),
        )
        return self.page(req, "Home", body)

    def category(self, req: Request, slug: str) -> Response:
        cat = req.db.execute("SELECT * FROM categories WHERE slug = ?", (slug,)).fetchone()
        if cat is None:
            raise NotFound("There is no such category.")
        sort = req.arg("sort", "featured")
        rows = v.products(req.db, "WHERE c.slug = ?", (slug,), sort)
        body = frag(
            el(
                "nav", el("a", "Home", href="/"), " › ", cat["name"], class_="crumbs", aria_label="Breadcrumb"
            ),
            el("h1", cat["name"]),
            el("p", cat["description"]),
            el("p", plural(len(rows), "product"), class_="muted result-count"),
            v.sort_form(
                f"/category/{slug}", sort, ["featured", "price_asc", "price_desc", "newest", "name", "rating"]
            ),
            v.product_list(rows, req.full_path, label=f"Products in {cat['name']}"),
        )
        return self.page(req, cat["name"], body)

    def search(self, req: Request) -> Response:
        query, sort = req.arg("q"), req.arg("sort", "relevance")
        terms = _terms(query)
        rows = [
            p
            for p in v.products(req.db, sort=sort if sort in v.SORTS else "relevance")
            if terms and all(t in f"{p['name']} {p['description']} {p['category']}".lower() for t in terms)
        ]
        if sort not in v.SORTS or sort == "relevance":
            rows.sort(key=lambda p: (-sum(t in p["name"].lower() for t in terms), p["name"].lower()))
        listing = (
            v.product_list(rows, req.full_path, label="Search results")
            if rows
            else frag(
                el("p", f"No products match “{query}”." if query else "Type a word to search the catalogue."),
                el("ul", id="product-list", class_="grid", aria_label="Search results"),
            )
        )
        body = frag(
            el("h1", f"Search results for “{query}”" if query else "Search"),
            el("p", plural(len(rows), "result"), class_="muted result-count"),
            v.sort_form(
                "/search",
                sort,
                ["relevance", "price_asc", "price_desc", "newest", "name", "rating"],
                {"q": query},
            ),
            listing,
        )
        return self.page(req, f"Search: {query}", body)

    def product_page(self, req: Request, product_id: int) -> Response:
        p = v.product(req.db, product_id)
        if p is None:
            raise NotFound("There is no such product.")
        reviews = req.db.execute(
            "SELECT * FROM reviews WHERE product_id = ? ORDER BY created DESC, id DESC", (product_id,)
        )
        review_list = [
            el(
                "article",
                el("h3", r["title"]),
                stars(r["rating"]),
                el("p", f"by {r['author']} on {r['created']}", class_="muted review-meta"),
                el("p", r["body"], class_="review-body"),
                class_="review",
            )
            for r in reviews
        ]
        if req.user is not None:
            review_form = el(
                "form",
                el("h3", "Write a review"),
                field_select(
                    "review_rating",
                    "Your rating",
                    [(n, plural(n, "star")) for n in (5, 4, 3, 2, 1)],
                    5,
                    name="rating",
                ),
                field_input("review_title", "Review title", name="title", required=True),
                field_textarea("review_body", "Your review", name="body", required=True, rows=4),
                el("button", "Submit review", type="submit"),
                method="post",
                action=f"/product/{product_id}/review",
                class_="card",
            )
        else:
            review_form = el(
                "p", el("a", "Log in to write a review", href=f"/login?next=/product/{product_id}")
            )
        buy = el(
            "form",
            hidden("product_id", product_id),
            hidden("next", f"/product/{product_id}"),
            field_input("qty", "Quantity", value=1, kind="number", min=1, max=99),
            el("button", "Add to cart", type="submit", id="add-to-cart-button"),
            method="post",
            action="/cart/add",
        )
        body = frag(
            el(
                "nav",
                el("a", "Home", href="/"),
                " › ",
                el("a", p["category"], href=f"/category/{p['category_slug']}"),
                class_="crumbs",
                aria_label="Breadcrumb",
            ),
            el(
                "div",
                el(
                    "div",
                    el(
                        "img",
                        src=f"/media/{p['picture']}.png",
                        alt=p["name"],
                        width=320,
                        height=240,
                        class_="product-photo",
                    ),
                ),
                el(
                    "div",
                    el("h1", p["name"], class_="product-title"),
                    el("p", money(p["price"]), class_="price", id="product-price"),
                    el("p", v.rating_line(p), class_="rating"),
                    el("p", p["description"], class_="description"),
                    el(
                        "p", f"In stock ({p['stock']} left)" if p["stock"] else "Out of stock", class_="muted"
                    ),
                    buy,
                ),
                class_="product-page",
            ),
            el(
                "section",
                el("h2", f"Reviews ({len(review_list)})"),
                review_list or el("p", "No reviews yet."),
                review_form,
                id="reviews",
                aria_label="Reviews",
            ),
        )
        return self.page(req, p["name"], body)

    def add_review(self, req: Request, product_id: int) -> Response:
        user = self.require_user(req)
        if v.product(req.db, product_id) is None:
            raise NotFound("There is no such product.")
        rating = min(5, max(1, req.int_arg("rating", 5) or 5))
        title, body = req.field("title"), req.field("body")
        resp = Response.redirect(f"/product/{product_id}#reviews")
        if not title or not body:
            self.flash(resp, "Please give your review a title and some text.")
            return resp
        req.db.execute(
            "INSERT INTO reviews(product_id, author, rating, title, body, created) VALUES (?,?,?,?,?,?)",
            (product_id, user["username"], rating, title, body, date.today().isoformat()),
        )
        self.flash(resp, "Thank you for your review!")
        return resp

    def media(self, req: Request, key: str) -> Response:
        if not is_valid_key(key):
            raise NotFound("No such picture.")
        return Response.png(picture(key))

    # --- cart and checkout -------------------------------------------------------------------
    def on_login(self, req: Request, old_session: str | None, user_id: int) -> None:
        if old_session:
            for row in req.db.execute(
                "SELECT * FROM cart_items WHERE owner = ?", (f"s{old_session}",)
            ).fetchall():
                self._add_to_cart(req.db, f"u{user_id}", row["product_id"], row["qty"])
            req.db.execute("DELETE FROM cart_items WHERE owner = ?", (f"s{old_session}",))

    @staticmethod
    def _add_to_cart(db: sqlite3.Connection, owner: str, product_id: int, qty: int) -> None:
        db.execute(
            "INSERT INTO cart_items(owner, product_id, qty) VALUES (?,?,?) "
            "ON CONFLICT(owner, product_id) DO UPDATE SET qty = MIN(99, qty + excluded.qty)",
            (owner, product_id, qty),
        )

    def cart_add(self, req: Request) -> Response:
        product_id = req.int_arg("product_id")
        p = v.product(req.db, product_id) if product_id is not None else None
        if p is None:
            raise NotFound("There is no such product.")
        qty = min(99, max(1, req.int_arg("qty", 1) or 1))
        resp = Response.redirect("/cart")
        self.ensure_session(req, resp)
        owner = v.cart_owner(req)
        assert owner is not None
        self._add_to_cart(req.db, owner, p["id"], qty)
        self.flash(resp, f"Added {qty} × {p['name']} to your cart.")
        return resp

    def cart_update(self, req: Request) -> Response:
        owner = v.cart_owner(req)
        for row in v.cart_rows(req):
            qty = req.int_arg(f"qty_{row['id']}")
            if qty is None:
                continue
            if qty <= 0:
                req.db.execute(
                    "DELETE FROM cart_items WHERE owner = ? AND product_id = ?", (owner, row["id"])
                )
            else:
                req.db.execute(
                    "UPDATE cart_items SET qty = ? WHERE owner = ? AND product_id = ?",
                    (min(qty, 99), owner, row["id"]),
                )
        resp = Response.redirect("/cart")
        self.flash(resp, "Your cart has been updated.")
        return resp

    def cart_remove(self, req: Request) -> Response:
        req.db.execute(
            "DELETE FROM cart_items WHERE owner = ? AND product_id = ?",
            (v.cart_owner(req), req.int_arg("product_id")),
        )
        resp = Response.redirect("/cart")
        self.flash(resp, "The item was removed from your cart.")
        return resp

    def cart(self, req: Request) -> Response:
        rows = v.cart_rows(req)
        if not rows:
            body = frag(
                el("h1", "Shopping cart"),
                el("p", "Your cart is empty.", class_="empty-cart"),
                el("p", el("a", "Continue shopping", href="/")),
            )
            return self.page(req, "Shopping cart", body)
        table_rows = [
            el(
                "tr",
                el("td", el("a", r["name"], href=f"/product/{r['id']}"), class_="item-name"),
                el("td", money(r["price"])),
                el(
                    "td",
                    el("label", f"Quantity for {r['name']}", for_=f"qty-{r['id']}", class_="sr-only"),
                    el(
                        "input",
                        type="number",
                        id=f"qty-{r['id']}",
                        name=f"qty_{r['id']}",
                        value=r["qty"],
                        min=0,
                        max=99,
                        form="cart-form",
                        class_="qty",
                    ),
                ),
                el("td", money(r["line_total"]), class_="line-total"),
                el(
                    "td",
                    el(
                        "button",
                        "Remove",
                        type="submit",
                        form=f"remove-{r['id']}",
                        class_="secondary",
                        aria_label=f"Remove {r['name']}",
                    ),
                ),
            )
            for r in rows
        ]
        subtotal = sum(r["line_total"] for r in rows)
        body = frag(
            el("h1", "Shopping cart"),
            el(
                "table",
                el(
                    "thead",
                    el(
                        "tr",
                        [el("th", h, scope="col") for h in ("Product", "Price", "Quantity", "Subtotal", "")],
                    ),
                ),
                el("tbody", table_rows),
                id="cart-table",
            ),
            el("form", id="cart-form", method="post", action="/cart/update"),
            [
                el(
                    "form",
                    hidden("product_id", r["id"]),
                    id=f"remove-{r['id']}",
                    method="post",
                    action="/cart/remove",
                )
                for r in rows
            ],
            el("p", el("button", "Update cart", type="submit", form="cart-form", class_="secondary")),
            el("p", "Subtotal: ", el("span", money(subtotal), id="cart-subtotal"), class_="price"),
            el("p", el("a", "Proceed to checkout", href="/checkout", class_="button")),
        )
        return self.page(req, "Shopping cart", body)

    def checkout(self, req: Request) -> Response:
        rows = v.cart_rows(req)
        if not rows:
            resp = Response.redirect("/cart")
            self.flash(resp, "Your cart is empty.")
            return resp
        user = req.user
        values = {
            "full_name": req.field("full_name", user["full_name"] if user else ""),
            "street": req.field("street", user["street"] if user else ""),
            "city": req.field("city", user["city"] if user else ""),
            "zip": req.field("zip", user["zip"] if user else ""),
            "shipping": req.field("shipping", "standard"),
        }
        error = None
        if req.method == "POST":
            if not all(values[k] for k in ("full_name", "street", "city", "zip")):
                error = "Please fill in your name and the full address."
            elif values["shipping"] not in catalog.SHIPPING:
                error = "Please choose a shipping method."
            else:
                return self._place_order(req, rows, values)
        subtotal = sum(r["line_total"] for r in rows)
        form = el(
            "form",
            el("div", error, class_="flash error", role="alert") if error else None,
            field_input(
                "full_name", "Full name", value=values["full_name"], autocomplete="name", required=True
            ),
            field_input(
                "street",
                "Street address",
                value=values["street"],
                autocomplete="street-address",
                required=True,
            ),
            field_input("city", "City", value=values["city"], required=True),
            field_input("zip", "ZIP code", value=values["zip"], required=True),
            field_select(
                "shipping",
                "Shipping method",
                [
                    (k, f"{label} - {money(cost) if cost else 'free'}")
                    for k, (label, cost) in catalog.SHIPPING.items()
                ],
                values["shipping"],
            ),
            el("button", "Place order", type="submit", id="place-order"),
            method="post",
            action="/checkout",
            class_="card",
        )
        summary = el(
            "aside",
            el("h2", "Order summary"),
            el(
                "ul",
                [el("li", f"{r['name']} × {r['qty']} – {money(r['line_total'])}") for r in rows],
                class_="plain",
            ),
            el("p", f"Subtotal: {money(subtotal)}", class_="price"),
            class_="card",
            aria_label="Order summary",
        )
        body = frag(el("h1", "Checkout"), el("div", form, summary, class_="layout2"))
        return self.page(req, "Checkout", body, status=400 if error else 200)

    def _place_order(self, req: Request, rows: list[sqlite3.Row], values: dict[str, str]) -> Response:
        cost = catalog.SHIPPING[values["shipping"]][1]
        total = round(sum(r["line_total"] for r in rows) + cost, 2)
        cur = req.db.execute(
            "INSERT INTO orders(user_id, session, created, full_name, street, city, zip, shipping, shipping_cost, total, status) "
            "VALUES (?,?,?,?,?,?,?,?,?,?, 'Processing')",
            (
                req.user["id"] if req.user else None,
                req.session,
                date.today().isoformat(),
                values["full_name"],
                values["street"],
                values["city"],
                values["zip"],
                values["shipping"],
                cost,
                total,
            ),
        )
        order_id = cur.lastrowid
        req.db.executemany(
            "INSERT INTO order_items VALUES (?,?,?,?,?)",
            [(order_id, r["id"], r["name"], r["price"], r["qty"]) for r in rows],
        )
        req.db.execute("DELETE FROM cart_items WHERE owner = ?", (v.cart_owner(req),))
        resp = Response.redirect(f"/order/{order_id}")
        self.flash(resp, f"Thank you! Your order #{order_id} has been placed.")
        return resp

    def _order_items_text(self, db: sqlite3.Connection, order_id: int) -> str:
        items = db.execute("SELECT name, qty FROM order_items WHERE order_id = ?", (order_id,))
        return ", ".join(f"{i['name']} × {i['qty']}" for i in items)

    def order_page(self, req: Request, order_id: int) -> Response:
        order = req.db.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
        mine = order is not None and (
            (req.user is not None and order["user_id"] == req.user["id"])
            or (req.session and order["session"] == req.session)
        )
        if not mine:
            raise NotFound("There is no such order in your account.")
        assert order is not None
        items = req.db.execute("SELECT * FROM order_items WHERE order_id = ?", (order_id,)).fetchall()
        label = catalog.SHIPPING.get(order["shipping"], (order["shipping"], 0.0))[0]
        body = frag(
            el("h1", f"Order #{order_id}"),
            el(
                "dl",
                el("dt", "Status"),
                el("dd", order["status"], class_="order-status"),
                el("dt", "Placed on"),
                el("dd", order["created"]),
                el("dt", "Ship to"),
                el(
                    "dd",
                    f"{order['full_name']}, {order['street']}, {order['city']} {order['zip']}",
                    class_="order-address",
                ),
                el("dt", "Shipping method"),
                el("dd", label, class_="order-shipping"),
                class_="card",
            ),
            el(
                "table",
                el(
                    "thead",
                    el(
                        "tr", [el("th", h, scope="col") for h in ("Product", "Price", "Quantity", "Subtotal")]
                    ),
                ),
                el(
                    "tbody",
                    [
                        el(
                            "tr",
                            el("td", i["name"]),
                            el("td", money(i["price"])),
                            el("td", i["qty"], class_="qty"),
                            el("td", money(i["price"] * i["qty"])),
                        )
                        for i in items
                    ],
                ),
                el(
                    "tfoot",
                    el("tr", el("td", "Shipping", colspan=3), el("td", money(order["shipping_cost"]))),
                    el(
                        "tr",
                        el("td", "Total", colspan=3),
                        el("td", money(order["total"]), id="order-total"),
                        class_="totals",
                    ),
                ),
                id="order-items",
            ),
            el(
                "p",
                el("a", "Back to my orders", href="/account/orders")
                if req.user
                else el("a", "Continue shopping", href="/"),
            ),
        )
        return self.page(req, f"Order #{order_id}", body)

    def orders(self, req: Request) -> Response:
        user = self.require_user(req)
        rows = req.db.execute(
            "SELECT * FROM orders WHERE user_id = ? ORDER BY id DESC", (user["id"],)
        ).fetchall()
        table = el(
            "table",
            el(
                "thead",
                el(
                    "tr",
                    [
                        el("th", h, scope="col")
                        for h in ("Order", "Date", "Items", "Ship to", "Shipping", "Total", "Status")
                    ],
                ),
            ),
            el(
                "tbody",
                [
                    el(
                        "tr",
                        el(
                            "td",
                            el("a", f"#{o['id']}", href=f"/order/{o['id']}", aria_label=f"Order #{o['id']}"),
                        ),
                        el("td", o["created"]),
                        el("td", self._order_items_text(req.db, o["id"]), class_="order-items"),
                        el(
                            "td",
                            f"{o['full_name']}, {o['street']}, {o['city']} {o['zip']}",
                            class_="order-ship-to",
                        ),
                        el(
                            "td",
                            catalog.SHIPPING.get(o["shipping"], (o["shipping"], 0))[0],
                            class_="order-shipping",
                        ),
                        el("td", money(o["total"]), class_="order-total"),
                        el("td", o["status"], class_="order-status"),
                    )
                    for o in rows
                ],
            ),
            id="order-history",
        )
        body = frag(el("h1", "My orders"), table if rows else el("p", "You have not placed any orders yet."))
        return self.page(req, "My orders", body)


def create_app() -> ShopApp:
    return ShopApp()


__all__ = ["SEEDED_SESSION", "ShopApp", "create_app"]
