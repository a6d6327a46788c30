"""The shop's seed: the schema, and the code that fills it from `catalog.json`.

`catalog.json` holds the data: categories, products (ids are positions, from 1), users, alex's and
sam's past orders, and the reviewer names and texts that reviews are drawn from.
Facts that bundled tasks rely on (keep them true when editing):
- the cheapest ceramic mug in Kitchen is "Plain white mug" at $7.49; there are five ceramic mugs
  in Kitchen, and a cheaper mug that is not ceramic (stainless steel, $6.99);
- alex's most recent order is #1004; orders are numbered from 1001.
Reviews are generated deterministically (crc32, never `hash()`), so ratings never change.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..store import password_hash

DATA_FILE = Path(__file__).with_name("catalog.json")

# key: (label, cost); offered at checkout and used by the past orders
SHIPPING: dict[str, tuple[str, float]] = {
    "standard": ("Standard (5-7 days)", 4.99),
    "express": ("Express (1-2 days)", 14.99),
    "pickup": ("Store pickup", 0.0),
}

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password_hash TEXT, full_name TEXT,
                    street TEXT, city TEXT, zip TEXT);
CREATE TABLE categories (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, name TEXT, description TEXT);
CREATE TABLE products (id INTEGER PRIMARY KEY, category_id INTEGER, name TEXT, price REAL, picture TEXT,
                       description TEXT, added TEXT, stock INTEGER);
CREATE TABLE reviews (id INTEGER PRIMARY KEY, product_id INTEGER, author TEXT, rating INTEGER, title TEXT,
                      body TEXT, created TEXT);
CREATE TABLE cart_items (owner TEXT, product_id INTEGER, qty INTEGER, PRIMARY KEY (owner, product_id));
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, session TEXT, created TEXT, full_name TEXT,
                     street TEXT, city TEXT, zip TEXT, shipping TEXT, shipping_cost REAL, total REAL, status TEXT);
CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, name TEXT, price REAL, qty INTEGER);
"""


def load_data() -> dict[str, Any]:
    """The seed data from `catalog.json`."""
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def _reviews_for(
    name: str, reviewers: list[str], texts: dict[int, list[dict[str, str]]]
) -> list[tuple[str, int, str, str, str]]:
    """0-5 reviews whose ratings lean on a per-product quality, all derived from the name."""
    h = zlib.crc32(name.encode())
    count, quality = h % 6, 3 + (h >> 4) % 3
    out = []
    for i in range(count):
        r = zlib.crc32(f"{name}#{i}".encode())
        rating = max(1, min(5, quality + (r % 3) - 1))
        text = texts[rating][(r >> 3) % len(texts[rating])]
        day = date(2024, 6, 1) + timedelta(days=(r >> 7) % 280)
        out.append(
            (reviewers[(r >> 11) % len(reviewers)], rating, text["title"], text["body"], day.isoformat())
        )
    return out


def build(db: sqlite3.Connection) -> None:
    """Create the schema and insert the seed rows."""
    data = load_data()
    review_texts = {int(rating): texts for rating, texts in data["review_texts"].items()}
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    for u in data["users"]:
        db.execute(
            "INSERT INTO users(username, password_hash, full_name, street, city, zip) VALUES (?,?,?,?,?,?)",
            (
                u["username"],
                password_hash(u["username"], u["password"]),
                u["full_name"],
                u["street"],
                u["city"],
                u["zip"],
            ),
        )
    db.executemany(
        "INSERT INTO categories(slug, name, description) VALUES (?,?,?)",
        [(c["slug"], c["name"], c["description"]) for c in data["categories"]],
    )
    category_ids = {row["slug"]: row["id"] for row in db.execute("SELECT id, slug FROM categories")}
    for index, p in enumerate(data["products"], start=1):
        added = date(2024, 1, 5) + timedelta(days=(index * 37) % 400)
        db.execute(
            "INSERT INTO products(id, category_id, name, price, picture, description, added, stock) VALUES (?,?,?,?,?,?,?,?)",
            (
                index,
                category_ids[p["category"]],
                p["name"],
                p["price"],
                p["picture"],
                p["description"],
                added.isoformat(),
                5 + index % 20,
            ),
        )
        for author, rating, title, body, created in _reviews_for(p["name"], data["reviewers"], review_texts):
            db.execute(
                "INSERT INTO reviews(product_id, author, rating, title, body, created) VALUES (?,?,?,?,?,?)",
                (index, author, rating, title, body, created),
            )
    for order in data["orders"]:
        order_id, shipping = order["id"], order["shipping"]
        user = db.execute("SELECT * FROM users WHERE username = ?", (order["user"],)).fetchone()
        rows = [
            (db.execute("SELECT * FROM products WHERE name = ?", (i["product"],)).fetchone(), i["qty"])
            for i in order["items"]
        ]
        cost = SHIPPING[shipping][1]
        total = round(sum(p["price"] * q for p, q in rows) + cost, 2)
        db.execute(
            "INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                order_id,
                user["id"],
                None,
                order["created"],
                user["full_name"],
                user["street"],
                user["city"],
                user["zip"],
                shipping,
                cost,
                total,
                order["status"],
            ),
        )
        for product, qty in rows:
            db.execute(
                "INSERT INTO order_items VALUES (?,?,?,?,?)",
                (order_id, product["id"], product["name"], product["price"], qty),
            )
