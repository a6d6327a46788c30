"""The classifieds' seed: the schema, and the code that fills it from `listings.json`.

`listings.json` holds the data: categories, users, listings (price null: ask the seller; picture
null: no photo) and comments. Listing ids are positions in its `listings` (from 1) and publication
dates grow with the id. Facts that bundled tasks rely on (keep them true when editing):
- listings 31 and 58 are two red bicycles under $100 with the identical photo `bicycle-red-city`
  (no other listing uses it); listing 44 is a red road bike over $100 with a different photo;
- the used mountain bikes in Pittsburgh are 12, 39, 64 and 77 (77 is the most recent, $340);
  listing 81 in Pittsburgh mentions "mountain" and "bike" but is a helmet (Sports);
- alex sells listings 14, 20, 41, 53, 66 and 86.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..store import password_hash

DATA_FILE = Path(__file__).with_name("listings.json")
CITIES = ["Pittsburgh", "Philadelphia", "Columbus", "Cleveland", "Baltimore"]
CONDITIONS = ["New", "Like new", "Used", "For parts"]

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password_hash TEXT, full_name TEXT, city TEXT,
                    email TEXT);
CREATE TABLE categories (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, name TEXT);
CREATE TABLE items (id INTEGER PRIMARY KEY, user_id INTEGER, category_id INTEGER, title TEXT, description TEXT,
                    price REAL, city TEXT, condition TEXT, pub_date TEXT);
CREATE TABLE item_photos (item_id INTEGER, position INTEGER, picture TEXT);
CREATE TABLE comments (id INTEGER PRIMARY KEY, item_id INTEGER, user_id INTEGER, title TEXT, body TEXT, created TEXT);
CREATE TABLE messages (id INTEGER PRIMARY KEY, item_id INTEGER, sender_name TEXT, sender_email TEXT, body TEXT,
                       created TEXT);
"""

EPOCH = datetime(2025, 1, 6, 8, 0)


def load_data() -> dict[str, Any]:
    """The seed data from `listings.json`."""
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def pub_date(item_id: int) -> datetime:
    """Strictly increasing with the id, at irregular hours."""
    return EPOCH + timedelta(hours=17 * item_id + (item_id * 7) % 5, minutes=(item_id * 13) % 60)


def build(db: sqlite3.Connection) -> None:
    """Create the schema and insert the seed rows."""
    data = load_data()
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    for u in data["users"]:
        username = u["username"]
        db.execute(
            "INSERT INTO users(username, password_hash, full_name, city, email) VALUES (?,?,?,?,?)",
            (
                username,
                password_hash(username, u["password"]),
                u["full_name"],
                u["city"],
                f"{username}@example.com",
            ),
        )
    db.executemany(
        "INSERT INTO categories(slug, name) VALUES (?,?)",
        [(c["slug"], c["name"]) for c in data["categories"]],
    )
    users = {r["username"]: r["id"] for r in db.execute("SELECT id, username FROM users")}
    cats = {r["slug"]: r["id"] for r in db.execute("SELECT id, slug FROM categories")}
    for item_id, it in enumerate(data["listings"], start=1):
        db.execute(
            "INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?)",
            (
                item_id,
                users[it["seller"]],
                cats[it["category"]],
                it["title"],
                it["description"],
                it["price"],
                it["city"],
                it["condition"],
                pub_date(item_id).isoformat(" "),
            ),
        )
        if it["picture"]:
            db.execute("INSERT INTO item_photos VALUES (?,?,?)", (item_id, 1, it["picture"]))
    for index, c in enumerate(data["comments"]):
        created = pub_date(c["item"]) + timedelta(hours=5 + index)
        db.execute(
            "INSERT INTO comments(item_id, user_id, title, body, created) VALUES (?,?,?,?,?)",
            (c["item"], users[c["author"]], c["title"], c["body"], created.isoformat(" ")),
        )
