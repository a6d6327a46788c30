"""Three small real websites for web agents: a shop, a forum and classifieds, served on 127.0.0.1.

Standard library only and independent of the rest of the project. Start them with
`start_sites()` (see `launcher.py` for the API, accounts and cookies) or `python -m envs.sites`.
Tasks over them are in `envs/sites/tasks/`.
"""

from .launcher import (
    BENCHMARK_NAMES,
    CLASSIFIEDS_RESET_TOKEN,
    DEFAULT_PORTS,
    HOST_NAMES,
    PLACEHOLDERS,
    SEEDED_USER,
    SESSION_COOKIES,
    SITE_NAMES,
    RunningSites,
    reset_over_http,
    start_sites,
)
from .store import INSTANCE_COOKIE

__all__ = [
    "BENCHMARK_NAMES",
    "CLASSIFIEDS_RESET_TOKEN",
    "DEFAULT_PORTS",
    "HOST_NAMES",
    "INSTANCE_COOKIE",
    "PLACEHOLDERS",
    "SEEDED_USER",
    "SESSION_COOKIES",
    "SITE_NAMES",
    "RunningSites",
    "reset_over_http",
    "start_sites",
]
