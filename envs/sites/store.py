"""Per-episode data instances: one in-memory SQLite database per instance name, restored from a seed.

Several episodes can share one server: each request names its instance with the `wd_instance`
cookie, and each instance is a private copy of the seed. Copies are made with the SQLite backup
API, which takes milliseconds for these small databases, so a reset is cheap enough to do before
every episode.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

INSTANCE_COOKIE = "wd_instance"
DEFAULT_INSTANCE = "0"
_INSTANCE_RE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

KIT_SCHEMA = """
CREATE TABLE sessions (token TEXT PRIMARY KEY, user_id INTEGER, created TEXT DEFAULT CURRENT_TIMESTAMP);
"""


def clean_instance(name: str | None) -> str:
    """A safe instance name; anything odd falls back to the default instance."""
    if name and _INSTANCE_RE.fullmatch(name):
        return name
    return DEFAULT_INSTANCE


def password_hash(username: str, password: str) -> str:
    """Salted with the user name: good enough for a demo site, and never stores the password."""
    return hashlib.sha256(f"{username}\x00{password}".encode()).hexdigest()


def _connect() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


class InstanceStore:
    """The seed database and the lazily created instances, each guarded by its own lock."""

    def __init__(self, build_seed: Callable[[sqlite3.Connection], None]) -> None:
        self._seed = _connect()
        self._seed.executescript(KIT_SCHEMA)
        self._seed.execute("BEGIN")
        build_seed(self._seed)
        if self._seed.in_transaction:  # executescript() inside build_seed may have committed already
            self._seed.execute("COMMIT")
        self._seed_lock = threading.Lock()
        self._guard = threading.Lock()
        self._instances: dict[str, tuple[sqlite3.Connection, threading.RLock]] = {}

    def _get(self, instance: str) -> tuple[sqlite3.Connection, threading.RLock]:
        with self._guard:
            entry = self._instances.get(instance)
            if entry is None:
                conn = _connect()
                with self._seed_lock:
                    self._seed.backup(conn)
                entry = self._instances[instance] = (conn, threading.RLock())
            return entry

    @contextmanager
    def use(self, instance: str) -> Iterator[sqlite3.Connection]:
        """Exclusive use of one instance's database for the length of a request.

        Work happens in one transaction: committed on success, rolled back on error.
        """
        conn, lock = self._get(instance)
        with lock:
            conn.execute("BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def reset(self, instance: str) -> None:
        """Restore one instance to the seed (creating it if needed); its sessions go with it."""
        conn, lock = self._get(instance)
        with lock, self._seed_lock:
            self._seed.backup(conn)

    def instances(self) -> list[str]:
        with self._guard:
            return sorted(self._instances)

    @contextmanager
    def seed(self) -> Iterator[sqlite3.Connection]:
        """Read-only access to the pristine seed (for tests and fact checks)."""
        with self._seed_lock:
            yield self._seed
