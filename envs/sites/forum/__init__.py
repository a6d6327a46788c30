"""The bundled forum site (forum.test).

`app.py` has its URLs and pages, `content.py` builds its seed from the data in `content.json`.
"""

from .app import SEEDED_SESSION, ForumApp, create_app

__all__ = ["SEEDED_SESSION", "ForumApp", "create_app"]
