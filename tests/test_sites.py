"""HTTP-level tests of the bundled sites, against real servers on 127.0.0.1 (urllib, no browser)."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from envs.sites import CLASSIFIEDS_RESET_TOKEN, SESSION_COOKIES, RunningSites, reset_over_http, start_sites
from envs.sites.classifieds import BICYCLE_PHOTO
from envs.sites.images import picture

ROOT = Path(__file__).resolve().parents[1]
BIKE_IMAGE = ROOT / "tests/assets/input_images/classifieds/task_2/input_0.png"


@pytest.fixture(scope="module")
def sites() -> Iterator[RunningSites]:
    with start_sites(ports={"shop": 0, "forum": 0, "classifieds": 0}) as running:
        yield running


class Browser:
    """A urllib client with its own cookie jar: one "visitor" of one data instance."""

    def __init__(self, base: str, instance: str = "0", cookies: dict[str, str] | None = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        for name, value in {"wd_instance": instance, **(cookies or {})}.items():
            self.jar.set_cookie(
                http.cookiejar.Cookie(
                    0,
                    name,
                    value,
                    None,
                    False,
                    "127.0.0.1",
                    False,
                    False,
                    "/",
                    True,
                    False,
                    None,
                    False,
                    None,
                    None,
                    {},
                )
            )
        self.url = ""

    def open(self, path: str, data: dict[str, object] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=10) as resp:
                self.url = resp.url
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            self.url = err.url
            return err.code, err.read().decode()

    def get(self, path: str) -> str:
        status, text = self.open(path)
        assert status == 200, (path, status, text[:300])
        return text


def texts(html: str, css_class: str) -> list[str]:
    """Inner text (tags stripped) of elements whose class list starts with `css_class`."""
    found = re.findall(rf'class="{css_class}[^"]*"[^>]*>(.*?)</', html, re.S)
    return [re.sub(r"<[^>]+>", "", t).strip() for t in found]


def product_names(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", n) for n in re.findall(r'class="product-name"><a [^>]*>(.*?)</a>', html)]


def prices(html: str) -> list[float]:
    return [float(p.strip("$").replace(",", "")) for p in texts(html, "price")]


def logged_in(sites: RunningSites, site: str, instance: str = "0") -> Browser:
    name, value = SESSION_COOKIES[site]
    return Browser(sites.internal_urls[site], instance, {name: value})


# --- every page renders ---------------------------------------------------------------------
PAGES = [
    ("shop", "/", ["Shop by category", 'href="/category/kitchen"', "New arrivals"]),
    ("shop", "/category/kitchen", ['id="product-list"', "Plain white mug", 'id="sort"']),
    ("shop", "/search?q=mug", ['id="product-list"', "Mug warmer"]),
    ("shop", "/product/1", ["Plain white mug", "$7.49", 'alt="Plain white mug"', 'id="add-to-cart-button"']),
    ("shop", "/cart", ["Shopping cart", "Your cart is empty"]),
    ("shop", "/login", ['for="username"', 'for="password"', "Log in"]),
    ("forum", "/", ["All posts", 'class="submissions"']),
    ("forum", "/forums", ['id="forum-list"', "/f/gardening", "/f/technology"]),
    ("forum", "/f/gardening", ["Gardening", "My tomatoes split open", "Submit a new post"]),
    ("forum", "/f/gardening/12", ["My tomatoes split open", 'class="comment-count"', "Log in to comment"]),
    ("forum", "/user/tomato_tom", ["tomato_tom", "My tomatoes split open"]),
    ("forum", "/search?q=tomato", ["My tomatoes split open"]),
    ("classifieds", "/", ["Latest listings", "Bicycles"]),
    ("classifieds", "/index.php", ["Latest listings"]),
    ("classifieds", "/index.php?page=search&sPattern=guitar", ["Acoustic guitar", "Lowest price first"]),
    ("classifieds", "/index.php?page=item&id=31", ['class="item-photos"', "$85.00", "Red city bike"]),
    ("classifieds", "/index.php?page=login", ['for="username"']),
    ("classifieds", "/index.php?page=user&action=pub_profile&id=2", ["Rita Klein"]),
]


@pytest.mark.parametrize(("site", "path", "needles"), PAGES)
def test_page_renders(sites: RunningSites, site: str, path: str, needles: list[str]) -> None:
    html = Browser(sites.internal_urls[site]).get(path)
    assert html.startswith("<!DOCTYPE html>")
    for needle in needles:
        assert needle in html, (site, path, needle)
    # relative links only: the browser reaches the sites under several host names
    assert not re.search(r'(?:href|src|action)="(?:https?:)?//', html)


@pytest.mark.parametrize("site", ["shop", "forum", "classifieds"])
def test_health_404_and_images(sites: RunningSites, site: str) -> None:
    client = Browser(sites.internal_urls[site])
    assert client.open("/__health__")[0] == 200
    assert client.open("/no/such/page")[0] == 404
    media = {
        "shop": "/media/mug-white.png",
        "forum": "/media/food-orange.png",
        "classifieds": "/oc-content/uploads/bicycle-red-city.png",
    }[site]
    with urllib.request.urlopen(sites.internal_urls[site] + media) as resp:
        assert resp.headers["Content-Type"] == "image/png" and resp.read().startswith(b"\x89PNG")


# --- shop --------------------------------------------------------------------------------------
def test_search_sorting(sites: RunningSites) -> None:
    client = Browser(sites.internal_urls["shop"])
    asc = client.get("/search?q=ceramic+mug&sort=price_asc")
    assert product_names(asc)[0] == "Plain white mug" and prices(asc) == sorted(prices(asc))
    # the first result's add button is a direct child of the <li> (task selectors rely on it)
    first = re.search(r'<ul id="product-list"[^>]*><li[^>]*>(.*?)</li>', asc, re.S)
    assert first and re.search(r'<button[^>]*class="add-to-cart"', first.group(1))
    desc = client.get("/search?q=mug&sort=price_desc")
    assert prices(desc) == sorted(prices(desc), reverse=True)
    names = product_names(client.get("/category/books?sort=name"))
    assert names == sorted(names, key=str.lower)
    assert "No products match" in client.get("/search?q=quantum+toaster")


def test_cheapest_ceramic_mug_fact(sites: RunningSites) -> None:
    html = Browser(sites.internal_urls["shop"]).get("/category/kitchen?sort=price_asc")
    names = product_names(html)
    listed = dict(zip(names, prices(html), strict=True))
    with sites.app("shop").store.seed() as db:
        ceramic = {
            r["name"] for r in db.execute("SELECT name FROM products WHERE description LIKE '%ceramic mug%'")
        }
    mugs = [n for n in names if n in ceramic]
    assert len(mugs) >= 3 and mugs[0] == "Plain white mug" and listed["Plain white mug"] == 7.49
    assert min(listed[n] for n in names if "mug" in n.lower()) < 7.49  # a cheaper mug that is not ceramic


def test_cart_checkout_and_order_history(sites: RunningSites) -> None:
    client = logged_in(sites, "shop", "t-checkout")
    status, html = client.open("/cart/add", {"product_id": 1, "qty": 2})
    assert status == 200 and client.url.endswith("/cart") and "Plain white mug" in html and "$14.98" in html
    client.open("/cart/add", {"product_id": 41})
    html = client.get("/checkout")
    assert 'value="Alex Morgan"' in html and 'id="shipping"' in html
    status, html = client.open(
        "/checkout", {"full_name": "", "street": "x", "city": "y", "zip": "1", "shipping": "express"}
    )
    assert status == 400 and "fill in" in html
    status, html = client.open(
        "/checkout",
        {
            "full_name": "Alex Morgan",
            "street": "12 Elm Street",
            "city": "Pittsburgh",
            "zip": "15213",
            "shipping": "express",
        },
    )
    assert status == 200 and re.search(r"/order/1006$", client.url), client.url
    assert "Express (1-2 days)" in html and "$46.96" in html  # 2 x 7.49 + 16.99 + 14.99
    assert "Your cart is empty" in client.get("/cart")
    history = client.get("/account/orders")
    rows = texts(history, "order-items")
    assert rows[0] == "Plain white mug × 2, The Patient Gardener × 1" and len(rows) == 5


def test_guest_cart_moves_to_account_on_login(sites: RunningSites) -> None:
    client = Browser(sites.internal_urls["shop"], "t-guest")
    client.open("/cart/add", {"product_id": 22})
    assert "Mini Bluetooth speaker" in client.get("/cart")
    assert client.open("/account/orders")[1].count('id="username"') == 1  # redirected to the login form
    status, _ = client.open("/login", {"username": "alex", "password": "wrong"})
    assert status == 401
    client.open("/login", {"username": "alex", "password": "alexpass", "next": "/cart"})
    assert client.url.endswith("/cart") and "Mini Bluetooth speaker" in client.get("/cart")
    assert "Signed in as alex" in client.get("/")


def test_review_is_escaped(sites: RunningSites) -> None:
    client = logged_in(sites, "shop", "t-review")
    client.open(
        "/product/5/review", {"rating": 4, "title": "Good <b>mug</b>", "body": "<script>alert(1)</script>"}
    )
    html = client.get("/product/5")
    assert "Good &lt;b&gt;mug&lt;/b&gt;" in html and "<script>alert" not in html


# --- forum -------------------------------------------------------------------------------------
def test_forum_post_12_and_commenting(sites: RunningSites) -> None:
    anon = Browser(sites.internal_urls["forum"], "t-comment")
    html = anon.get("/f/gardening/12")
    assert texts(html, "submission-title") == ["My tomatoes split open"]
    assert texts(html, "comment-count") == ["0 comments"] and "comment-body" not in html
    client = logged_in(sites, "forum", "t-comment")
    status, html = client.open("/f/gardening/12/comment", {"body": "Water them more evenly"})
    assert status == 200 and client.url.endswith("/f/gardening/12")
    assert (
        texts(html, "comment-count") == ["1 comment"]
        and texts(html, "comment-body")[-1] == "Water them more evenly"
    )
    assert anon.get("/f/gardening/12").count('class="comment-body"') == 1  # same instance, other visitor


def test_forum_submit_vote_subscribe(sites: RunningSites) -> None:
    client = logged_in(sites, "forum", "t-forum")
    html = client.get("/submit/gardening")
    for field_id in ("submission_title", "submission_body", "submission_submit", "submission_forum"):
        assert f'id="{field_id}"' in html
    status, html = client.open(
        "/submit/gardening", {"forum": "gardening", "title": "Tomato cracking", "body": "How often?"}
    )
    assert status == 200 and re.search(r"/f/gardening/61$", client.url)
    assert texts(html, "submission-title") == ["Tomato cracking"]
    assert "Tomato cracking" in client.get("/f/gardening?sort=new").split("</li>")[0]

    def score() -> int:
        return int(texts(client.get("/f/gardening/10"), "post-score")[0])

    before = score()
    client.open("/vote/post/10", {"direction": "up", "next": "/f/gardening/10"})
    assert score() == before + 1
    client.open("/vote/post/10", {"direction": "up"})  # the same arrow again takes the vote back
    assert score() == before
    assert 'id="subscribe-button"' in client.get("/f/books") and "Subscribe</button>" in client.get(
        "/f/books"
    )
    client.open("/f/books/subscribe", {})
    assert "Unsubscribe</button>" in client.get("/f/books")
    assert client.open("/f/gardening/12/edit")[0] == 403  # not alex's post


# --- classifieds -------------------------------------------------------------------------------
def test_classifieds_facts(sites: RunningSites) -> None:
    client = Browser(sites.internal_urls["classifieds"])
    photos = {}
    for item_id in (31, 58):
        html = client.get(f"/index.php?page=item&id={item_id}")
        photos[item_id] = re.findall(r'class="item-photos"><img src="([^"]+)"', html)
        assert float(texts(html, "item-price")[0].strip("$")) < 100
    assert photos[31] == photos[58] == [f"oc-content/uploads/{BICYCLE_PHOTO}.png"]
    html = client.get("/index.php?page=search&sPattern=mountain+bike&sCity=Pittsburgh&sCategory=bicycles")
    assert re.findall(r'data-item-id="(\d+)"', html) == ["77", "64", "39", "12"]
    html = client.get("/index.php?page=search&sCategory=1&sOrder=i_price&iOrderType=asc&sPriceMax=100")
    assert re.findall(r'data-item-id="(\d+)"', html)[:3] == ["22", "90", "31"]
    assert "90 listings found" in client.get("/index.php?page=search")
    with sites.app("classifieds").store.seed() as db:
        assert db.execute("SELECT COUNT(DISTINCT city) FROM items").fetchone()[0] >= 4
        assert (
            db.execute("SELECT COUNT(*) FROM item_photos WHERE picture = ?", (BICYCLE_PHOTO,)).fetchone()[0]
            == 2
        )


def test_classifieds_publish_edit_comment(sites: RunningSites) -> None:
    client = logged_in(sites, "classifieds", "t-publish")
    form = client.get("/index.php?page=item&action=item_add")
    assert 'id="catId"' in form and 'type="radio"' in form
    status, html = client.open(
        "/index.php?page=item&action=item_add",
        {
            "title": "Blue road bike for sale",
            "category_id": 1,
            "price": "150",
            "city": "Pittsburgh",
            "condition": "Used",
            "description": "Fast and light.",
            "photo": "bicycle-blue-road",
        },
    )
    assert status == 200 and client.url.endswith("page=item&id=91")
    assert "oc-content/uploads/bicycle-blue-road.png" in html and "$150.00" in html
    client.open(
        "/index.php?page=item&action=item_edit&id=91",
        {
            "title": "Blue road bike",
            "category_id": 1,
            "price": "120",
            "city": "Pittsburgh",
            "condition": "Used",
            "description": "Fast.",
            "photo": "",
        },
    )
    html = client.get("/index.php?page=item&id=91")
    assert "$120.00" in html and 'class="item-photos"' not in html
    client.open(
        "/index.php?page=item&action=add_comment&id=31", {"title": "Hi", "body": "Is it still available?"}
    )
    assert "Is it still available?" in client.get("/index.php?page=item&id=31")
    assert "Blue road bike" in client.get("/index.php?page=user&action=items")


def test_classifieds_vwa_reset_with_token(sites: RunningSites) -> None:
    client = logged_in(sites, "classifieds", "t-vwa-reset")
    client.open(
        "/index.php?page=item&action=add_comment&id=5", {"title": "Hello", "body": "Unique comment 123"}
    )
    assert "Unique comment 123" in client.get("/index.php?page=item&id=5")
    assert client.open("/index.php?page=reset", {"token": "wrong"})[0] == 403
    status, _ = client.open(
        "/index.php?page=reset", {"token": CLASSIFIEDS_RESET_TOKEN}
    )  # instance from the cookie
    assert status == 200 and "Unique comment 123" not in client.get("/index.php?page=item&id=5")


# --- instances, sessions and resets ------------------------------------------------------------
def test_instances_are_isolated_and_reset_restores(sites: RunningSites) -> None:
    one = logged_in(sites, "forum", "1")
    one.open("/f/gardening/12/comment", {"body": "Only in instance one"})
    assert "Only in instance one" in one.get("/f/gardening/12")
    assert "Only in instance one" not in Browser(sites.internal_urls["forum"], "0").get("/f/gardening/12")
    # a password login in instance 1 is ended by the reset; the seeded session survives it
    other = Browser(sites.internal_urls["forum"], "1")
    other.open("/login", {"username": "marge_g", "password": "margepass"})
    assert 'aria-label="My profile">marge_g<' in other.get("/")
    sites.reset("1")
    assert "Only in instance one" not in one.get("/f/gardening/12")
    assert "Log in" in other.get("/") and 'aria-label="My profile">alex<' in one.get("/")


def test_reset_over_http_and_seeded_sessions(sites: RunningSites) -> None:
    for site in ("shop", "forum", "classifieds"):
        home = "/index.php" if site == "classifieds" else "/"
        assert "Log out" in logged_in(sites, site, "2").get(home)
        assert "Log out" not in Browser(sites.internal_urls[site], "2").get(home)
    client = logged_in(sites, "shop", "2")
    client.open("/cart/add", {"product_id": 3})
    assert "Ceramic mug with bamboo lid" in client.get("/cart")
    reset_over_http(sites.internal_urls["shop"], "2")
    assert "Your cart is empty" in client.get("/cart")
    assert Browser(sites.internal_urls["shop"]).open("/__reset__")[0] == 405


def test_concurrent_instances(sites: RunningSites) -> None:
    errors: list[str] = []

    def worker(n: int) -> None:
        client = logged_in(sites, "shop", f"t-conc-{n}")
        for _ in range(3):
            client.open("/cart/add", {"product_id": 10 + n})
        html = client.get("/cart")
        if f'name="qty_{10 + n}" value="3"' not in html or html.count('class="item-name"') != 1:
            errors.append(f"instance {n}: wrong cart")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- launcher and assets -----------------------------------------------------------------------
def test_launcher_addresses(sites: RunningSites) -> None:
    port = sites.ports["shop"]
    assert (
        sites.urls["shop"] == f"http://shop.test:{port}"
        and sites.internal_urls["shop"] == f"http://127.0.0.1:{port}"
    )
    assert sites.placeholders == {
        "__SHOPPING__": sites.urls["shop"],
        "__REDDIT__": sites.urls["forum"],
        "__CLASSIFIEDS__": sites.urls["classifieds"],
    }
    assert sites.host_map == {
        "shop.test": "127.0.0.1",
        "forum.test": "127.0.0.1",
        "classifieds.test": "127.0.0.1",
    }
    assert "MAP forum.test 127.0.0.1" in sites.host_resolver_rules
    cookie = sites.login_cookies("forum")[0]
    assert (cookie["name"], cookie["value"], cookie["domain"]) == (*SESSION_COOKIES["forum"], "forum.test")
    assert {c["domain"] for c in sites.instance_cookies("7", internal=True)} == {"127.0.0.1"}
    episode = sites.benchmark_sites("7")
    assert set(episode) == {"shopping", "reddit", "classifieds"}
    assert episode["reddit"]["reset_data"] == {"instance": "7"} and episode["reddit"]["reset_url"].endswith(
        "/__reset__"
    )
    assert episode["classifieds"]["cookies"][0]["value"] == "7"


def test_busy_port_falls_back_unless_fixed(sites: RunningSites) -> None:
    taken = {"shop": sites.ports["shop"]}
    with start_sites(["shop"], ports=taken) as second:
        assert second.ports["shop"] != taken["shop"]
        assert Browser(second.internal_urls["shop"]).open("/__health__")[0] == 200
    with pytest.raises(OSError):
        start_sites(["shop"], ports=taken, fixed_ports=True)


def test_task_input_image_is_the_listing_photo() -> None:
    assert BIKE_IMAGE.read_bytes() == picture(BICYCLE_PHOTO)
