"""The forum (forum.test, `__REDDIT__`), a small Postmill/reddit look-alike.

URLs: `/`, `/forums`, `/f/<forum>?sort=hot|new|top|comments`, `/f/<forum>/<post id>`,
`/f/<forum>/<post id>/edit`, `/submit`, `/submit/<forum>`, `/user/<name>`, `/search?q=`,
`/vote/post/<id>`, `/vote/comment/<id>`, `/login`, `/logout`, `/media/<picture>.png`.
"""

from __future__ import annotations

import sqlite3

from ..app import NotFound, SiteApp, now, safe_next
from ..markup import Markup, el, field_input, field_select, field_textarea, frag, plural, post_button
from ..web import Request, Response
from . import content
from . import views as v

SEEDED_SESSION = "forum-seeded-session-alex"


class ForumApp(SiteApp):
    name = "forum"
    title = "Postboard"
    accent = "#3b5ba5"
    extra_css = v.CSS
    seeded_session = SEEDED_SESSION

    def build_seed(self, db: sqlite3.Connection) -> None:
        content.build(db)

    def header(self, req: Request) -> Markup:
        return v.header(req, self.title)

    def register_routes(self) -> None:
        r = self.router
        r.add("GET", "/", self.front)
        r.add("GET", "/forums", self.forum_list)
        r.add("GET", "/f/<forum>", self.forum_page)
        r.add("POST", "/f/<forum>/subscribe", self.subscribe)
        r.add("GET", "/f/<forum>/<int:post_id>", self.post_page)
        r.add("POST", "/f/<forum>/<int:post_id>/comment", self.add_comment)
        r.add("GET POST", "/f/<forum>/<int:post_id>/edit", self.edit_post)
        r.add("POST", "/f/<forum>/<int:post_id>/delete", self.delete_post)
        r.add("GET POST", "/submit", self.submit)
        r.add("GET POST", "/submit/<forum>", self.submit)
        r.add("POST", "/vote/<kind>/<int:target_id>", self.vote)
        r.add("GET", "/user/<username>", self.profile)
        r.add("GET", "/search", self.search)
        r.add("GET", "/login", lambda req: self.login_page(req))
        r.add("POST", "/login", self.login_submit)
        r.add("POST", "/logout", lambda req: self.logout(req))
        r.add("GET", "/media/<key>.png", self.media)

    def _forum(self, db: sqlite3.Connection, name: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM forums WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"There is no forum called /f/{name}.")
        return row

    # --- lists -------------------------------------------------------------------------------
    def front(self, req: Request) -> Response:
        sort = req.arg("sort", "hot")
        body = el(
            "div",
            el(
                "section",
                el("h1", "All posts"),
                v.sort_form("/", sort),
                v.post_list(req, v.posts(req.db, sort=sort)[:25]),
            ),
            v.forum_sidebar(req.db, req),
            class_="layout2",
        )
        return self.page(req, "All posts", body)

    def forum_list(self, req: Request) -> Response:
        rows = req.db.execute(
            "SELECT f.*, (SELECT COUNT(*) FROM subscriptions s WHERE s.forum_id = f.id) AS subscribers, "
            "(SELECT COUNT(*) FROM posts p WHERE p.forum_id = f.id) AS post_count FROM forums f ORDER BY f.name"
        ).fetchall()
        table = el(
            "table",
            el(
                "thead",
                el(
                    "tr", [el("th", h, scope="col") for h in ("Forum", "Description", "Subscribers", "Posts")]
                ),
            ),
            el(
                "tbody",
                [
                    el(
                        "tr",
                        el("td", el("a", f"/f/{f['name']}", href=f"/f/{f['name']}")),
                        el("td", f["description"]),
                        el("td", f["subscribers"], class_="subscribers"),
                        el("td", f["post_count"], class_="post-count"),
                    )
                    for f in rows
                ],
            ),
            id="forum-list",
        )
        return self.page(req, "Forums", frag(el("h1", "Forums"), table))

    def forum_page(self, req: Request, forum: str) -> Response:
        f = self._forum(req.db, forum)
        sort = req.arg("sort", "hot")
        rows = v.posts(req.db, "WHERE p.forum_id = ?", (f["id"],), sort)
        subscribers = req.db.execute(
            "SELECT COUNT(*) FROM subscriptions WHERE forum_id = ?", (f["id"],)
        ).fetchone()[0]
        tools: list[Markup] = [el("a", "Submit a new post", href=f"/submit/{forum}", class_="button")]
        if req.user is not None:
            subscribed = req.db.execute(
                "SELECT 1 FROM subscriptions WHERE user_id = ? AND forum_id = ?", (req.user["id"], f["id"])
            ).fetchone()
            tools.append(
                post_button(
                    f"/f/{forum}/subscribe",
                    "Unsubscribe" if subscribed else "Subscribe",
                    id="subscribe-button",
                    class_="secondary",
                )
            )
        body = el(
            "div",
            el(
                "section",
                el("h1", f["title"], class_="forum-title"),
                el("p", f"/f/{forum} · {f['description']}", class_="muted"),
                el(
                    "p",
                    f"{plural(subscribers, 'subscriber')} · {plural(len(rows), 'post')}",
                    class_="forum-stats",
                ),
                el("div", tools, class_="forum-tools"),
                v.sort_form(f"/f/{forum}", sort),
                v.post_list(req, rows, show_forum=False),
            ),
            v.forum_sidebar(req.db, req),
            class_="layout2",
        )
        return self.page(req, f"/f/{forum}", body)

    def subscribe(self, req: Request, forum: str) -> Response:
        user = self.require_user(req)
        f = self._forum(req.db, forum)
        key = (user["id"], f["id"])
        if req.db.execute("SELECT 1 FROM subscriptions WHERE user_id = ? AND forum_id = ?", key).fetchone():
            req.db.execute("DELETE FROM subscriptions WHERE user_id = ? AND forum_id = ?", key)
            message = f"You unsubscribed from /f/{forum}."
        else:
            req.db.execute("INSERT INTO subscriptions(user_id, forum_id) VALUES (?, ?)", key)
            message = f"You are now subscribed to /f/{forum}."
        resp = Response.redirect(f"/f/{forum}")
        self.flash(resp, message)
        return resp

    def search(self, req: Request) -> Response:
        query = req.arg("q")
        terms = query.lower().split()
        rows = [
            p
            for p in v.posts(req.db, sort="new")
            if terms and all(t in f"{p['title']} {p['body']}".lower() for t in terms)
        ]
        body = frag(
            el("h1", f"Search results for “{query}”" if query else "Search"),
            el("p", plural(len(rows), "result"), class_="muted result-count"),
            v.post_list(req, rows),
        )
        return self.page(req, f"Search: {query}", body)

    def profile(self, req: Request, username: str) -> Response:
        user = req.db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
        if user is None:
            raise NotFound("There is no such user.")
        user_posts = v.posts(req.db, "WHERE p.user_id = ?", (user["id"],), "new")
        comments = req.db.execute(
            "SELECT c.*, p.title, f.name AS forum FROM comments c JOIN posts p ON p.id = c.post_id "
            "JOIN forums f ON f.id = p.forum_id WHERE c.user_id = ? ORDER BY c.created DESC, c.id DESC",
            (user["id"],),
        ).fetchall()
        comment_items = [
            el(
                "li",
                el(
                    "p",
                    "On ",
                    el("a", c["title"], href=f"/f/{c['forum']}/{c['post_id']}"),
                    f" · {c['created'][:16]}",
                    class_="meta",
                ),
                el("div", c["body"], class_="comment-body"),
                class_="comment",
            )
            for c in comments
        ]
        body = frag(
            el("h1", user["username"]),
            el("p", user["bio"]),
            el(
                "p",
                f"Joined {user['joined']} · {plural(len(user_posts), 'post')} · {plural(len(comments), 'comment')}",
                class_="muted user-stats",
            ),
            el("section", el("h2", "Posts"), v.post_list(req, user_posts), aria_label="Posts"),
            el(
                "section",
                el("h2", "Comments"),
                el("ul", comment_items, class_="plain") if comments else el("p", "No comments yet."),
                aria_label="Comments",
            ),
        )
        return self.page(req, user["username"], body)

    # --- a post and its comments -------------------------------------------------------------
    def _post_in(self, req: Request, forum: str, post_id: int) -> sqlite3.Row:
        p = v.post(req.db, post_id)
        if p is None or p["forum"] != forum:
            raise NotFound("There is no such post in this forum.")
        return p

    def post_page(self, req: Request, forum: str, post_id: int) -> Response:
        p = self._post_in(req, forum, post_id)
        comments = req.db.execute(
            "SELECT c.*, u.username AS author FROM comments c JOIN users u ON u.id = c.user_id "
            "WHERE c.post_id = ? ORDER BY c.created, c.id",
            (post_id,),
        ).fetchall()
        post_votes, comment_votes = v.my_votes(req, "post"), v.my_votes(req, "comment")
        here = f"/f/{forum}/{post_id}"
        owner_tools = None
        if req.user is not None and req.user["id"] == p["user_id"]:
            owner_tools = el(
                "p",
                el("a", "Edit post", href=f"{here}/edit"),
                " ",
                post_button(f"{here}/delete", "Delete post", class_="secondary"),
            )
        if req.user is not None:
            comment_form = el(
                "form",
                field_textarea("comment_body", "Comment", name="body", required=True, rows=4),
                el("button", "Post comment", type="submit", id="comment_submit"),
                method="post",
                action=f"{here}/comment",
                class_="comment-form",
            )
        else:
            comment_form = el("p", el("a", "Log in to comment", href=f"/login?next={here}"))
        comment_items = [
            el(
                "article",
                v.vote_widget(
                    "comment",
                    c["id"],
                    c["score"],
                    comment_votes.get(c["id"], 0),
                    f" comment by {c['author']}",
                    here,
                    "comment-score",
                ),
                el(
                    "div",
                    el(
                        "p",
                        el("a", c["author"], href=f"/user/{c['author']}", class_="comment-author"),
                        f" · {c['created'][:16]}",
                        class_="meta",
                    ),
                    el("div", c["body"], class_="comment-body"),
                ),
                class_="comment",
                id=f"comment-{c['id']}",
            )
            for c in comments
        ]
        article = el(
            "article",
            v.vote_widget("post", post_id, p["score"], post_votes.get(post_id, 0), "", here, "post-score"),
            el(
                "div",
                el("h1", p["title"], class_="submission-title"),
                el(
                    "p",
                    "Submitted by ",
                    el("a", p["author"], href=f"/user/{p['author']}", class_="submission-author"),
                    " in ",
                    el("a", f"/f/{forum}", href=f"/f/{forum}"),
                    " on ",
                    el("time", p["created"][:16], datetime=p["created"]),
                    " (edited)" if p["edited"] else None,
                    class_="meta",
                ),
                el(
                    "figure",
                    el("img", src=f"/media/{p['picture']}.png", alt=f"Photo for: {p['title']}"),
                    class_="submission-image",
                )
                if p["picture"]
                else None,
                el("div", p["body"], class_="submission-body"),
                owner_tools,
            ),
            class_="submission",
            id=f"post-{post_id}",
        )
        body = el(
            "div",
            el(
                "section",
                article,
                el(
                    "section",
                    el("h2", plural(len(comments), "comment"), class_="comment-count"),
                    comment_form,
                    el("div", comment_items, class_="comments"),
                    aria_label="Comments",
                ),
            ),
            v.forum_sidebar(req.db, req),
            class_="layout2",
        )
        return self.page(req, p["title"], body)

    def add_comment(self, req: Request, forum: str, post_id: int) -> Response:
        user = self.require_user(req)
        self._post_in(req, forum, post_id)
        text = req.field("body")
        resp = Response.redirect(f"/f/{forum}/{post_id}")
        if not text:
            self.flash(resp, "A comment cannot be empty.")
            return resp
        req.db.execute(
            "INSERT INTO comments(post_id, user_id, body, created, score) VALUES (?,?,?,?,1)",
            (post_id, user["id"], text, now()),
        )
        self.flash(resp, "Your comment has been posted.")
        return resp

    def vote(self, req: Request, kind: str, target_id: int) -> Response:
        user = self.require_user(req)
        table = {"post": "posts", "comment": "comments"}.get(kind)
        if (
            table is None
            or req.db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (target_id,)).fetchone() is None
        ):
            raise NotFound("Nothing to vote on here.")
        wanted = {"up": 1, "down": -1}.get(req.field("direction"), 0)
        key = (user["id"], kind, target_id)
        row = req.db.execute(
            "SELECT direction FROM votes WHERE user_id = ? AND kind = ? AND target_id = ?", key
        ).fetchone()
        old = row["direction"] if row else 0
        new = 0 if wanted == old else wanted
        req.db.execute("DELETE FROM votes WHERE user_id = ? AND kind = ? AND target_id = ?", key)
        if new:
            req.db.execute("INSERT INTO votes VALUES (?,?,?,?)", (*key, new))
        req.db.execute(f"UPDATE {table} SET score = score + ? WHERE id = ?", (new - old, target_id))
        return Response.redirect(safe_next(req.field("next"), "/"))

    # --- writing posts -----------------------------------------------------------------------
    def _post_form(
        self,
        req: Request,
        action: str,
        values: dict[str, str],
        button: str,
        error: str | None,
        pick_forum: bool = True,
    ) -> Markup:
        forums = req.db.execute("SELECT name FROM forums ORDER BY name").fetchall()
        return el(
            "form",
            el("div", error, class_="flash error", role="alert") if error else None,
            field_select(
                "submission_forum",
                "Forum",
                [("", "Choose a forum")] + [(f["name"], f["name"]) for f in forums],
                values["forum"],
                name="forum",
            )
            if pick_forum
            else None,
            field_input(
                "submission_title", "Title", name="title", value=values["title"], required=True, maxlength=300
            ),
            field_textarea("submission_body", "Body", name="body", value=values["body"], rows=8),
            el("button", button, type="submit", id="submission_submit"),
            method="post",
            action=action,
            class_="card",
        )

    def submit(self, req: Request, forum: str = "") -> Response:
        user = self.require_user(req)
        if forum:
            self._forum(req.db, forum)
        values = {"forum": req.field("forum", forum), "title": req.field("title"), "body": req.field("body")}
        error = None
        if req.method == "POST":
            target = req.db.execute("SELECT * FROM forums WHERE name = ?", (values["forum"],)).fetchone()
            if target is None:
                error = "Please choose a forum."
            elif not values["title"]:
                error = "Please give your post a title."
            else:
                cur = req.db.execute(
                    "INSERT INTO posts(forum_id, user_id, title, body, created, score) VALUES (?,?,?,?,?,1)",
                    (target["id"], user["id"], values["title"], values["body"], now()),
                )
                resp = Response.redirect(f"/f/{target['name']}/{cur.lastrowid}")
                self.flash(resp, "Your post has been submitted.")
                return resp
        action = f"/submit/{forum}" if forum else "/submit"
        body = frag(
            el("h1", "Create a post"), self._post_form(req, action, values, "Create submission", error)
        )
        return self.page(req, "Create a post", body, status=400 if error else 200)

    def edit_post(self, req: Request, forum: str, post_id: int) -> Response:
        user = self.require_user(req)
        p = self._post_in(req, forum, post_id)
        if p["user_id"] != user["id"]:
            return self.error_page(req, 403, "You can only edit your own posts.")
        values = {
            "forum": forum,
            "title": req.field("title", p["title"]),
            "body": req.field("body", p["body"]),
        }
        error = None
        if req.method == "POST":
            if not values["title"]:
                error = "Please give your post a title."
            else:
                req.db.execute(
                    "UPDATE posts SET title = ?, body = ?, edited = ? WHERE id = ?",
                    (values["title"], values["body"], now(), post_id),
                )
                resp = Response.redirect(f"/f/{forum}/{post_id}")
                self.flash(resp, "Your changes have been saved.")
                return resp
        form = self._post_form(
            req, f"/f/{forum}/{post_id}/edit", values, "Save changes", error, pick_forum=False
        )
        return self.page(req, "Edit post", frag(el("h1", "Edit post"), form), status=400 if error else 200)

    def delete_post(self, req: Request, forum: str, post_id: int) -> Response:
        user = self.require_user(req)
        p = self._post_in(req, forum, post_id)
        if p["user_id"] != user["id"]:
            return self.error_page(req, 403, "You can only delete your own posts.")
        req.db.execute("DELETE FROM comments WHERE post_id = ?", (post_id,))
        req.db.execute("DELETE FROM posts WHERE id = ?", (post_id,))
        resp = Response.redirect(f"/f/{forum}")
        self.flash(resp, "Your post has been deleted.")
        return resp


def create_app() -> ForumApp:
    return ForumApp()


__all__ = ["SEEDED_SESSION", "ForumApp", "create_app"]
