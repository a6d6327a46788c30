"""The shop's browsing pages: home, categories, search, product pages and their reviews."""

from __future__ import annotations

import re
from datetime import date

from ..app import NotFound, SiteApp
from ..markup import el, field_input, field_select, field_textarea, frag, hidden, money, plural, stars
from ..web import Request, Response
from . import views as v


def _terms(query: str) -> list[str]:
    """Lower-case search words; a trailing plural "s" is dropped so "mugs" finds "mug"."""
    words = re.findall(r"[\w'-]+", query.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


class BrowsePages(SiteApp):
    """The catalogue side of `ShopApp`: what a visitor sees before the cart."""

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
