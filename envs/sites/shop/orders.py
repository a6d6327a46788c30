"""The shop's cart, checkout and order pages (a guest cart moves to the account at login)."""

from __future__ import annotations

import sqlite3
from datetime import date

from ..app import NotFound, SiteApp
from ..markup import el, field_input, field_select, frag, hidden, money
from ..web import Request, Response
from . import catalog
from . import views as v


class OrderPages(SiteApp):
    """The buying side of `ShopApp`: cart, checkout, an order and the order history."""

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
