"""Rendering pieces of the forum: header, post lists, vote widgets, comments, queries."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from ..markup import Markup, el, field_select, frag, hidden, plural, post_button, search_form
from ..web import Request

SORTS: dict[str, tuple[str, str]] = {
    "hot": ("Hot", ""),
    "new": ("New", "p.created DESC, p.id DESC"),
    "top": ("Top", "p.score DESC, p.id DESC"),
    "comments": ("Most commented", "comment_count DESC, p.id DESC"),
}

POST_SQL = """
SELECT p.*, f.name AS forum, f.title AS forum_title, u.username AS author,
       (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id) AS comment_count
FROM posts p JOIN forums f ON f.id = p.forum_id JOIN users u ON u.id = p.user_id
"""

CSS = """
.submissions{list-style:none;padding:0;margin:0}.submission{display:flex;gap:12px;background:#fff;border:1px solid #ddd;
border-radius:6px;padding:10px;margin-bottom:8px}.vote{display:flex;flex-direction:column;align-items:center;min-width:44px}
.vote button{background:none;color:#888;padding:0 6px;font-size:18px;line-height:1}.vote button[aria-pressed=true]{color:var(--accent)}
.post-title{margin:0;font-size:17px}.post-title a{color:#1a1a1a;text-decoration:none}.meta{color:#666;font-size:13px;margin:2px 0}
.thumb{width:80px;height:60px;border-radius:4px}.comment{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:8px 12px;
margin:8px 0;display:flex;gap:10px}.layout2{display:grid;grid-template-columns:1fr 260px;gap:22px}.side{font-size:14px}
.submission-body{white-space:pre-wrap}.submission-image img{max-width:100%;height:auto}.sort{display:flex;gap:8px;align-items:flex-end}
.sort .field{margin:0}.forum-tools{display:flex;gap:10px;align-items:center;margin:8px 0 14px}
"""


def hotness(row: sqlite3.Row) -> float:
    """Reddit's "hot": votes count logarithmically, newer posts rise (deterministic for seeded data)."""
    score = row["score"]
    order = math.log10(max(abs(score), 1))
    sign = 1 if score > 0 else -1 if score < 0 else 0
    seconds = datetime.fromisoformat(row["created"]).timestamp() - 1_700_000_000
    return sign * order + seconds / 45000


def posts(
    db: sqlite3.Connection, where: str = "", params: Sequence[object] = (), sort: str = "hot"
) -> list[sqlite3.Row]:
    order = SORTS.get(sort, SORTS["hot"])[1] or "p.id DESC"
    rows = db.execute(f"{POST_SQL} {where} ORDER BY {order}", tuple(params)).fetchall()
    if sort not in SORTS or sort == "hot":
        rows.sort(key=hotness, reverse=True)
    return rows


def post(db: sqlite3.Connection, post_id: int) -> sqlite3.Row | None:
    return db.execute(f"{POST_SQL} WHERE p.id = ?", (post_id,)).fetchone()


def my_votes(req: Request, kind: str) -> dict[int, int]:
    if req.user is None:
        return {}
    rows = req.db.execute(
        "SELECT target_id, direction FROM votes WHERE user_id = ? AND kind = ?", (req.user["id"], kind)
    )
    return {r["target_id"]: r["direction"] for r in rows}


def vote_widget(
    kind: str, target_id: int, score: int, mine: int, label: str, next_url: str, score_class: str
) -> Markup:
    """Up/down buttons around the score; pressing the same arrow again takes the vote back."""

    def button(direction: str, arrow: str, pressed: bool) -> Markup:
        return el(
            "form",
            hidden("direction", direction),
            hidden("next", next_url),
            el(
                "button",
                arrow,
                type="submit",
                aria_label=f"{direction.capitalize()}vote{label}",
                aria_pressed="true" if pressed else "false",
                class_=f"vote-{direction}",
            ),
            method="post",
            action=f"/vote/{kind}/{target_id}",
        )

    return el(
        "div",
        button("up", "▲", mine > 0),
        el("span", score, class_=score_class, aria_label=f"Score {score}"),
        button("down", "▼", mine < 0),
        class_="vote",
    )


def header(req: Request, title: str) -> Markup:
    if req.user is not None:
        account = frag(
            el("a", "Submit a post", href="/submit"),
            el("a", req.user["username"], href=f"/user/{req.user['username']}", aria_label="My profile"),
            post_button("/logout", "Log out"),
        )
    else:
        account = el("a", "Log in", href="/login")
    return el(
        "header",
        el(
            "div",
            el("a", title, href="/", class_="brand"),
            el("nav", el("a", "Home", href="/"), el("a", "Forums", href="/forums"), aria_label="Main"),
            search_form(
                "Search forum", placeholder="Search posts", name="q", value=req.arg("q"), action="/search"
            ),
            el("nav", account, aria_label="Account"),
            class_="inner",
        ),
        class_="topbar",
    )


def post_list(req: Request, rows: Sequence[sqlite3.Row], show_forum: bool = True) -> Markup:
    if not rows:
        return el("p", "There are no posts here yet.", class_="muted")
    votes = my_votes(req, "post")
    items = []
    for p in rows:
        url = f"/f/{p['forum']}/{p['id']}"
        items.append(
            el(
                "li",
                vote_widget(
                    "post",
                    p["id"],
                    p["score"],
                    votes.get(p["id"], 0),
                    f" {p['title']}",
                    req.full_path,
                    "score",
                ),
                el("img", src=f"/media/{p['picture']}.png", alt=f"Photo for: {p['title']}", class_="thumb")
                if p["picture"]
                else None,
                el(
                    "div",
                    el("h2", el("a", p["title"], href=url), class_="post-title"),
                    el(
                        "p",
                        "Submitted by ",
                        el("a", p["author"], href=f"/user/{p['author']}"),
                        frag(" in ", el("a", f"/f/{p['forum']}", href=f"/f/{p['forum']}"))
                        if show_forum
                        else None,
                        " on ",
                        el("time", p["created"][:16], datetime=p["created"]),
                        class_="meta",
                    ),
                    el("a", plural(p["comment_count"], "comment"), href=url, class_="comments-link"),
                ),
                class_="submission",
                id=f"post-{p['id']}",
            )
        )
    return el("ol", items, class_="submissions")


def sort_form(action: str, sort: str, keep: dict[str, str] | None = None) -> Markup:
    return el(
        "form",
        [hidden(k, v) for k, v in (keep or {}).items()],
        field_select(
            "sort",
            "Sort by",
            [(k, label) for k, (label, _) in SORTS.items()],
            sort,
            onchange="this.form.submit()",
        ),
        el("button", "Apply", type="submit", class_="secondary"),
        method="get",
        action=action,
        class_="sort",
    )


def forum_sidebar(db: sqlite3.Connection, req: Request) -> Markup:
    forums = db.execute("SELECT name FROM forums ORDER BY name").fetchall()
    mine: list[sqlite3.Row] = []
    if req.user is not None:
        mine = db.execute(
            "SELECT f.name FROM subscriptions s JOIN forums f ON f.id = s.forum_id WHERE s.user_id = ? ORDER BY f.name",
            (req.user["id"],),
        ).fetchall()
    return el(
        "aside",
        el("h2", "Forums"),
        el(
            "ul",
            [el("li", el("a", f"/f/{f['name']}", href=f"/f/{f['name']}")) for f in forums],
            class_="plain",
        ),
        frag(
            el("h2", "My subscriptions"),
            el(
                "ul",
                [el("li", el("a", f"/f/{f['name']}", href=f"/f/{f['name']}")) for f in mine],
                class_="plain",
                id="subscriptions",
            ),
        )
        if req.user is not None
        else None,
        class_="side card",
        aria_label="Forums",
    )
