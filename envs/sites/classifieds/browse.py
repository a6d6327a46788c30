"""The classifieds' browsing pages: home, search results, a listing and a seller's public profile."""

from __future__ import annotations

from ..app import NotFound, SiteApp
from ..markup import el, field_input, field_select, field_textarea, frag, money, plural, post_button
from ..web import Request, Response
from . import listings
from . import views as v


class BrowsePages(SiteApp):
    """What any visitor of `ClassifiedsApp` can read."""

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
