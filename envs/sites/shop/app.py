"""The shop (shop.test, `__SHOPPING__`): catalogue, search, cart, checkout, orders and reviews.

URLs: `/`, `/category/<slug>?sort=`, `/search?q=&sort=`, `/product/<id>`, `/cart`, `/checkout`,
`/order/<id>`, `/account/orders`, `/login`, `/logout`, `/media/<picture>.png`.
The pages live in `browse.py` (catalogue, search, products, reviews) and `orders.py` (cart,
checkout, orders); the seed is built by `catalog.py` from `catalog.json`.
"""

from __future__ import annotations

import sqlite3

from ..markup import Markup
from ..web import Request, Response
from . import catalog
from . import views as v
from .browse import BrowsePages
from .orders import OrderPages

SEEDED_SESSION = "shop-seeded-session-alex"


class ShopApp(BrowsePages, OrderPages):
    name = "shop"
    title = "Corner Market"
    accent = "#b3471d"
    extra_css = v.CSS
    seeded_session = SEEDED_SESSION

    def build_seed(self, db: sqlite3.Connection) -> None:
        catalog.build(db)

    def header(self, req: Request) -> Markup:
        return v.header(req, self.title)

    def register_routes(self) -> None:
        r = self.router
        r.add("GET", "/", self.home)
        r.add("GET", "/category/<slug>", self.category)
        r.add("GET", "/search", self.search)
        r.add("GET", "/product/<int:product_id>", self.product_page)
        r.add("POST", "/product/<int:product_id>/review", self.add_review)
        r.add("GET", "/cart", self.cart)
        r.add("POST", "/cart/add", self.cart_add)
        r.add("POST", "/cart/update", self.cart_update)
        r.add("POST", "/cart/remove", self.cart_remove)
        r.add("GET POST", "/checkout", self.checkout)
        r.add("GET", "/order/<int:order_id>", self.order_page)
        r.add("GET", "/account", lambda req: Response.redirect("/account/orders"))
        r.add("GET", "/account/orders", self.orders)
        r.add("GET", "/login", lambda req: self.login_page(req))
        r.add("POST", "/login", self.login_submit)
        r.add("POST", "/logout", lambda req: self.logout(req))
        r.add("GET", "/media/<key>.png", self.media)


def create_app() -> ShopApp:
    return ShopApp()


__all__ = ["SEEDED_SESSION", "ShopApp", "create_app"]
