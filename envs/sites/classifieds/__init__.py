"""The bundled classifieds site (classifieds.test).

`app.py` has its URLs, `browse.py` and `publish.py` its pages, `listings.py` builds its seed from
the data in `listings.json`.
"""

from .app import BICYCLE_PHOTO, RESET_TOKEN, SEEDED_SESSION, ClassifiedsApp, create_app, write_bicycle_photo

__all__ = [
    "BICYCLE_PHOTO",
    "RESET_TOKEN",
    "SEEDED_SESSION",
    "ClassifiedsApp",
    "create_app",
    "write_bicycle_photo",
]
