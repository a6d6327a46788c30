"""The forum's seed: the schema, and the code that fills it from `content.json`.

`content.json` holds the data: forums, users, posts (with their global ids), comments and
subscriptions. Facts that bundled tasks rely on (keep them true when editing):
- post 12 is in /f/gardening, titled "My tomatoes split open", and has no comments;
- post 13 (/f/cycling) shows the same red bicycle photo as classifieds listings 31 and 58;
- post ids are global and follow creation time, as in Postmill.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..store import password_hash

DATA_FILE = Path(__file__).with_name("content.json")
EPOCH = datetime(2025, 1, 4, 9, 0)

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password_hash TEXT, bio TEXT, joined TEXT);
CREATE TABLE forums (id INTEGER PRIMARY KEY, name TEXT UNIQUE, title TEXT, description TEXT);
CREATE TABLE subscriptions (user_id INTEGER, forum_id INTEGER, PRIMARY KEY (user_id, forum_id));
CREATE TABLE posts (id INTEGER PRIMARY KEY, forum_id INTEGER, user_id INTEGER, title TEXT, body TEXT,
                    picture TEXT, created TEXT, edited TEXT, score INTEGER DEFAULT 0);
CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER, user_id INTEGER, body TEXT, created TEXT,
                       score INTEGER DEFAULT 0);
CREATE TABLE votes (user_id INTEGER, kind TEXT, target_id INTEGER, direction INTEGER,
                    PRIMARY KEY (user_id, kind, target_id));
"""


def load_data() -> dict[str, Any]:
    """The seed data from `content.json`."""
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def post_time(post_id: int) -> datetime:
    return EPOCH + timedelta(hours=29 * post_id)


def build(db: sqlite3.Connection) -> None:
    """Create the schema and insert the seed rows."""
    data = load_data()
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    for index, u in enumerate(data["users"]):
        joined = (EPOCH - timedelta(days=400 - 23 * index)).date().isoformat()
        db.execute(
            "INSERT INTO users(username, password_hash, bio, joined) VALUES (?,?,?,?)",
            (u["username"], password_hash(u["username"], u["password"]), u["bio"], joined),
        )
    db.executemany(
        "INSERT INTO forums(name, title, description) VALUES (?,?,?)",
        [(f["name"], f["title"], f["description"]) for f in data["forums"]],
    )
    users = {r["username"]: r["id"] for r in db.execute("SELECT id, username FROM users")}
    forums = {r["name"]: r["id"] for r in db.execute("SELECT id, name FROM forums")}
    for p in data["posts"]:
        db.execute(
            "INSERT INTO posts(id, forum_id, user_id, title, body, picture, created, score) VALUES (?,?,?,?,?,?,?,?)",
            (
                p["id"],
                forums[p["forum"]],
                users[p["author"]],
                p["title"],
                p["body"],
                p["picture"],
                post_time(p["id"]).isoformat(" "),
                p["score"],
            ),
        )
    per_post: dict[int, int] = {}
    for c in data["comments"]:
        post_id, body = c["post"], c["body"]
        per_post[post_id] = per_post.get(post_id, 0) + 1
        created = post_time(post_id) + timedelta(hours=2 * per_post[post_id], minutes=7 * len(body) % 60)
        db.execute(
            "INSERT INTO comments(post_id, user_id, body, created, score) VALUES (?,?,?,?,?)",
            (post_id, users[c["author"]], body, created.isoformat(" "), c["score"]),
        )
    for username, names in data["subscriptions"].items():
        db.executemany(
            "INSERT INTO subscriptions(user_id, forum_id) VALUES (?,?)",
            [(users[username], forums[n]) for n in names],
        )
