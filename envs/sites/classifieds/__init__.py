"""The bundled classifieds site (classifieds.test): see `app.py` for its URLs and `listings.py` for its data."""

from .app import BICYCLE_PHOTO, RESET_TOKEN, SEEDED_SESSION, ClassifiedsApp, create_app, write_bicycle_photo

__all__ = [
    "BICYCLE_PHOTO",
    "RESET_TOKEN",
    "SEEDED_SESSION",
    "ClassifiedsApp",
    "create_app",
    "write_bicycle_photo",
]
