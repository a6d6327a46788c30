"""The bundled shop site (shop.test).

`app.py` has its URLs, `browse.py` and `orders.py` its pages, `catalog.py` builds its seed from the
data in `catalog.json`.
"""

from .app import SEEDED_SESSION, ShopApp, create_app

__all__ = ["SEEDED_SESSION", "ShopApp", "create_app"]
