"""The bundled forum site (forum.test): see `app.py` for its URLs and `content.py` for its data."""

from .app import SEEDED_SESSION, ForumApp, create_app

__all__ = ["SEEDED_SESSION", "ForumApp", "create_app"]
