"""Rendering pieces of the classifieds: header, listing cards, the search filters, queries."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from urllib.parse import urlencode

from ..markup import Markup, el, field_input, field_select, frag, hidden, money, post_button, search_form
from ..web import Request
from .listings import CITIES

PAGE_SIZE = 20

ITEM_SQL = """
SELECT i.*, c.name AS category, c.slug AS category_slug, u.username AS seller, u.full_name AS seller_name,
       (SELECT picture FROM item_photos ph WHERE ph.item_id = i.id ORDER BY position LIMIT 1) AS picture
FROM items i JOIN categories c ON c.id = i.category_id JOIN users u ON u.id = i.user_id
"""

SORT_LINKS: list[tuple[str, str, str]] = [
    ("Newest first", "dt_pub_date", "desc"),
    ("Lowest price first", "i_price", "asc"),
    ("Highest price first", "i_price", "desc"),
]

PHOTO_CHOICES: list[tuple[str, str]] = [
    ("bicycle-blue-road", "Blue road bike"),
    ("chair-grey-sofa", "Grey sofa"),
    ("guitar-orange", "Acoustic guitar"),
    ("gadget-silver", "Silver laptop"),
    ("car-blue", "Blue car"),
    ("lamp-white", "White lamp"),
    ("box-brown", "Brown box"),
    ("shirt-green", "Green shirt"),
    ("", "No photo"),
]

CSS = """
.listings{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:14px}
.listing-card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}.listing-card img{width:100%;height:auto}
.listing-card h3{font-size:15px;margin:6px 0}.listing-price{font-weight:700;color:#1d6b3a}.layout2{display:grid;
grid-template-columns:250px 1fr;gap:22px}.filters .field{max-width:none}.sort-links{display:flex;gap:12px;margin:8px 0}
.sort-links a[aria-current]{font-weight:700;color:#222;text-decoration:none}.item-photos{display:flex;gap:10px;flex-wrap:wrap}
.item-photos img{width:400px;max-width:100%;height:auto;border-radius:6px}.details dt{font-weight:700}.details dd{margin:0 0 6px}
.photo-choices{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:8px;border:1px solid #ccc;
border-radius:6px;padding:10px;max-width:640px}.photo-choices label{display:flex;flex-direction:column;align-items:center;
gap:4px;font-size:13px}.photo-choices img{width:100px;height:75px}.nophoto{background:#eee;color:#777;display:flex;
align-items:center;justify-content:center;height:150px;border-radius:4px}.pager{display:flex;gap:14px;margin-top:14px}
"""


def item_url(item_id: int) -> str:
    return f"index.php?page=item&id={item_id}"


def search_url(**params: object) -> str:
    return "index.php?" + urlencode(
        {"page": "search", **{k: v for k, v in params.items() if v not in ("", None)}}
    )


def price_text(price: float | None) -> str:
    if price is None:
        return "Check with seller"
    return "Free" if price == 0 else money(price)


def item(db: sqlite3.Connection, item_id: int | None) -> sqlite3.Row | None:
    if item_id is None:
        return None
    return db.execute(f"{ITEM_SQL} WHERE i.id = ?", (item_id,)).fetchone()


def _terms(pattern: str) -> list[str]:
    words = re.findall(r"[\w'-]+", pattern.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def _number(raw: str) -> float | None:
    try:
        return float(raw.replace(",", "").replace("$", ""))
    except ValueError:
        return None


def search(db: sqlite3.Connection, req: Request) -> list[sqlite3.Row]:
    """Apply osclass-style filters: sPattern, sCity, sCategory (id or slug), sPriceMin/Max, sOrder, iOrderType."""
    where: list[str] = ["1 = 1"]
    params: list[object] = []
    if city := req.arg("sCity"):
        where.append("i.city = ? COLLATE NOCASE")
        params.append(city)
    if category := req.arg("sCategory"):
        where.append("(c.id = ? OR c.slug = ?)")
        params += [category, category]
    low, high = _number(req.arg("sPriceMin")), _number(req.arg("sPriceMax"))
    if low is not None:
        where.append("i.price >= ?")
        params.append(low)
    if high is not None:
        where.append("i.price <= ?")
        params.append(high)
    if req.arg("sOrder") == "i_price":
        direction = "DESC" if req.arg("iOrderType") == "desc" else "ASC"
        order = f"i.price IS NULL, i.price {direction}, i.pub_date DESC"
    else:
        order = "i.pub_date ASC" if req.arg("iOrderType") == "asc" else "i.pub_date DESC, i.id DESC"
    rows = db.execute(f"{ITEM_SQL} WHERE {' AND '.join(where)} ORDER BY {order}", params).fetchall()
    terms = _terms(req.arg("sPattern"))
    return [
        r
        for r in rows
        if all(t in f"{r['title']} {r['description']} {r['condition']}".lower() for t in terms)
    ]


def header(req: Request, title: str) -> Markup:
    if req.user is not None:
        account = frag(
            el("a", "Publish an ad", href="index.php?page=item&action=item_add", class_="publish"),
            el("a", "My listings", href="index.php?page=user&action=items"),
            post_button("index.php?page=logout", "Log out"),
        )
    else:
        account = frag(
            el("a", "Publish an ad", href="index.php?page=item&action=item_add"),
            el("a", "Log in", href="index.php?page=login"),
        )
    return el(
        "header",
        el(
            "div",
            el("a", title, href="index.php", class_="brand"),
            search_form(
                "Search listings",
                placeholder="Search listings",
                name="sPattern",
                value=req.arg("sPattern"),
                action="index.php",
                input_id="header-pattern",
                extra=hidden("page", "search"),
            ),
            el("nav", account, aria_label="Account"),
            class_="inner",
        ),
        class_="topbar",
    )


def listing_cards(rows: Sequence[sqlite3.Row], list_id: str = "listing-results") -> Markup:
    cards = []
    for r in rows:
        photo = (
            el(
                "a",
                el(
                    "img", src=f"oc-content/uploads/{r['picture']}.png", alt=r["title"], width=200, height=150
                ),
                href=item_url(r["id"]),
                tabindex="-1",
            )
            if r["picture"]
            else el("div", "No photo", class_="nophoto")
        )
        cards.append(
            el(
                "li",
                photo,
                el("h3", el("a", r["title"], href=item_url(r["id"])), class_="listing-title"),
                el("p", price_text(r["price"]), class_="listing-price"),
                el("p", f"{r['city']} · {r['category']} · {r['pub_date'][:10]}", class_="muted listing-meta"),
                class_="listing-card",
                data_item_id=r["id"],
            )
        )
    return el("ul", cards, class_="listings", id=list_id)


def category_options(db: sqlite3.Connection) -> list[tuple[object, str]]:
    return [(c["id"], c["name"]) for c in db.execute("SELECT id, name FROM categories ORDER BY id")]


def filters(db: sqlite3.Connection, req: Request) -> Markup:
    """The search sidebar; it keeps the current sort order when filters change."""
    return el(
        "form",
        el("h2", "Filter listings"),
        hidden("page", "search"),
        field_input("sPattern", "Keywords", value=req.arg("sPattern")),
        field_select(
            "sCategory", "Category", [("", "All categories"), *category_options(db)], req.arg("sCategory")
        ),
        field_select("sCity", "City", [("", "All cities")] + [(c, c) for c in CITIES], req.arg("sCity")),
        field_input("sPriceMin", "Min price", value=req.arg("sPriceMin"), kind="number", min=0),
        field_input("sPriceMax", "Max price", value=req.arg("sPriceMax"), kind="number", min=0),
        hidden("sOrder", req.arg("sOrder")) if req.arg("sOrder") else None,
        hidden("iOrderType", req.arg("iOrderType")) if req.arg("iOrderType") else None,
        el("button", "Apply filters", type="submit"),
        method="get",
        action="index.php",
        class_="filters card",
        aria_label="Filter listings",
    )


def sort_links(req: Request) -> Markup:
    current = (
        req.arg("sOrder", "dt_pub_date"),
        req.arg("iOrderType", "desc" if req.arg("sOrder") != "i_price" else "asc"),
    )
    keep = {k: req.arg(k) for k in ("sPattern", "sCategory", "sCity", "sPriceMin", "sPriceMax")}
    links = [
        el(
            "a",
            label,
            href=search_url(**keep, sOrder=order, iOrderType=kind),
            aria_current="true" if current == (order, kind) else None,
        )
        for label, order, kind in SORT_LINKS
    ]
    return el("nav", el("span", "Sort by:"), links, class_="sort-links", aria_label="Sort by")


def photo_choices(selected: str) -> Markup:
    choices = []
    for key, label in PHOTO_CHOICES:
        input_id = f"photo-{key or 'none'}"
        preview = el("img", src=f"oc-content/uploads/{key}.png", alt="") if key else el("span", "—")
        choices.append(
            el(
                "div",
                el("input", type="radio", id=input_id, name="photo", value=key, checked=key == selected),
                el("label", preview, label, for_=input_id),
            )
        )
    return el("fieldset", el("legend", "Photo"), choices, class_="photo-choices")
