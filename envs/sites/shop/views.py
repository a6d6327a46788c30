"""Rendering pieces of the shop: header, product cards and lists, sort form, queries they need."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..markup import Markup, el, field_select, frag, hidden, money, plural, post_button, search_form, stars
from ..web import Request

SORTS: dict[str, tuple[str, str]] = {
    # key: (label, SQL ORDER BY)
    "relevance": ("Relevance", ""),
    "featured": ("Featured", "p.id"),
    "price_asc": ("Price: low to high", "p.price ASC, p.name COLLATE NOCASE"),
    "price_desc": ("Price: high to low", "p.price DESC, p.name COLLATE NOCASE"),
    "newest": ("Newest first", "p.added DESC, p.id DESC"),
    "name": ("Name: A to Z", "p.name COLLATE NOCASE"),
    "rating": ("Customer rating", "rating DESC, review_count DESC, p.name COLLATE NOCASE"),
}

PRODUCT_SQL = """
SELECT p.*, c.name AS category, c.slug AS category_slug,
       COALESCE((SELECT AVG(rating) FROM reviews r WHERE r.product_id = p.id), 0) AS rating,
       (SELECT COUNT(*) FROM reviews r WHERE r.product_id = p.id) AS review_count
FROM products p JOIN categories c ON c.id = p.category_id
"""

CSS = """
.catbar{background:#fff;border-bottom:1px solid #ddd}.catbar ul{max-width:1080px;margin:0 auto;padding:8px 20px;
display:flex;gap:16px;flex-wrap:wrap;list-style:none}.product{background:#fff;border:1px solid #ddd;border-radius:6px;
padding:10px;display:flex;flex-direction:column;gap:4px}.product img{width:100%;height:auto;border-radius:4px}
.product h3{font-size:15px;margin:4px 0}.product h3 a{color:#222;text-decoration:none}.product .add-to-cart{margin-top:auto}
.sort{display:flex;gap:8px;align-items:flex-end}.sort .field{margin:0}.crumbs{font-size:13px;margin-bottom:6px}
.product-page{display:grid;grid-template-columns:320px 1fr;gap:24px}.product-page img{width:100%;height:auto}
.review{border-top:1px solid #ddd;padding:8px 0}.review h3{margin:0;font-size:15px}.totals td{font-weight:700}
.muted-light{opacity:.85}.layout2{display:grid;grid-template-columns:1fr 300px;gap:24px}
"""


def products(
    db: sqlite3.Connection, where: str = "", params: Sequence[object] = (), sort: str = "featured"
) -> list[sqlite3.Row]:
    order = SORTS.get(sort, SORTS["featured"])[1] or "p.id"
    return db.execute(f"{PRODUCT_SQL} {where} ORDER BY {order}", tuple(params)).fetchall()


def product(db: sqlite3.Connection, product_id: int) -> sqlite3.Row | None:
    return db.execute(f"{PRODUCT_SQL} WHERE p.id = ?", (product_id,)).fetchone()


def cart_owner(req: Request) -> str | None:
    """Carts belong to the user when logged in, else to the anonymous session."""
    if req.user is not None:
        return f"u{req.user['id']}"
    return f"s{req.session}" if req.session else None


def cart_rows(req: Request) -> list[sqlite3.Row]:
    owner = cart_owner(req)
    if owner is None:
        return []
    return req.db.execute(
        "SELECT p.*, ci.qty, p.price * ci.qty AS line_total FROM cart_items ci JOIN products p ON p.id = ci.product_id "
        "WHERE ci.owner = ? ORDER BY p.name COLLATE NOCASE",
        (owner,),
    ).fetchall()


def header(req: Request, title: str) -> Markup:
    count = sum(row["qty"] for row in cart_rows(req))
    if req.user is not None:
        account = frag(
            el("a", "My orders", href="/account/orders"),
            el("span", f"Signed in as {req.user['username']}", class_="muted-light"),
            post_button("/logout", "Log out"),
        )
    else:
        account = el("a", "Log in", href="/login")
    categories = req.db.execute("SELECT slug, name FROM categories ORDER BY id").fetchall()
    return frag(
        el(
            "header",
            el(
                "div",
                el("a", title, href="/", class_="brand"),
                search_form(
                    "Search products",
                    placeholder="Search products",
                    name="q",
                    value=req.arg("q"),
                    action="/search",
                ),
                el(
                    "nav",
                    el("a", "My cart", href="/cart"),
                    el("span", f"({plural(count, 'item')})", class_="cart-count"),
                    account,
                    aria_label="Account",
                ),
                class_="inner",
            ),
            class_="topbar",
        ),
        el(
            "nav",
            el("ul", [el("li", el("a", c["name"], href=f"/category/{c['slug']}")) for c in categories]),
            class_="catbar",
            aria_label="Categories",
        ),
    )


def product_card(p: sqlite3.Row, next_url: str) -> Markup:
    """One product in a list; the add button is a direct child of the `<li>` (task selectors rely on it)."""
    form_id = f"add-{p['id']}"
    return el(
        "li",
        el(
            "a",
            el("img", src=f"/media/{p['picture']}.png", alt=p["name"], width=200, height=150),
            href=f"/product/{p['id']}",
            tabindex="-1",
        ),
        el("h3", el("a", p["name"], href=f"/product/{p['id']}"), class_="product-name"),
        el("p", money(p["price"]), class_="price"),
        el("p", rating_line(p), class_="rating"),
        el(
            "form",
            hidden("product_id", p["id"]),
            hidden("next", next_url),
            id=form_id,
            method="post",
            action="/cart/add",
        ),
        el(
            "button",
            "Add to cart",
            type="submit",
            form=form_id,
            class_="add-to-cart",
            aria_label=f"Add {p['name']} to cart",
        ),
        class_="product",
        data_product_id=p["id"],
    )


def rating_line(p: sqlite3.Row) -> Markup:
    if not p["review_count"]:
        return el("span", "No reviews yet", class_="muted")
    return frag(
        stars(p["rating"]), " ", el("span", f"{p['rating']:.1f} ({plural(p['review_count'], 'review')})")
    )


def product_list(
    rows: Sequence[sqlite3.Row], next_url: str, list_id: str = "product-list", label: str = "Products"
) -> Markup:
    return el("ul", [product_card(p, next_url) for p in rows], id=list_id, class_="grid", aria_label=label)


def sort_form(action: str, sort: str, keys: Sequence[str], keep: dict[str, str] | None = None) -> Markup:
    """GET form with a "Sort by" select that submits on change (the Apply button works without JS)."""
    return el(
        "form",
        [hidden(k, v) for k, v in (keep or {}).items()],
        field_select(
            "sort", "Sort by", [(k, SORTS[k][0]) for k in keys], sort, onchange="this.form.submit()"
        ),
        el("button", "Apply", type="submit", class_="secondary"),
        method="get",
        action=action,
        class_="sort",
    )
