"""The bundled shop site (shop.test): see `app.py` for its URLs and `catalog.py` for its data."""

from .app import SEEDED_SESSION, ShopApp, create_app

__all__ = ["SEEDED_SESSION", "ShopApp", "create_app"]
