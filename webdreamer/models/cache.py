"""A persistent response cache in SQLite, for free reruns and exact replays of recorded episodes.

The key is a canonical hash of the request (model, messages with image digests instead of bytes,
n, temperature, top_p, max_tokens, logprobs, stop, seed) *plus an occurrence number*: the k-th
identical sampled request in a cache session gets the k-th recorded reply. Without it the three
rollouts of one candidate (identical prompts, method.md §2) would all replay the first rollout's
sample, and a re-ask after a parse failure would get the same bad reply back. Greedy requests
(temperature 0) always use occurrence 0, so repeats of them are served from the cache.
Call ``new_session()`` at the start of each task so that a task replays the same way whether it
is run alone or within a run.

Modes: ``off``; ``read-write`` (serve hits, record misses); ``read-only`` (serve hits, record
nothing); ``replay-strict`` (serve hits, a miss raises ``CacheMissError``). Failed calls are recorded
too, and re-raised only in ``replay-strict``, so a replay takes the same failure paths while a
normal rerun tries them again (and a success overwrites the failure).

SQLite in WAL mode with a busy timeout lets several processes share one file. The first stored
success for a key wins; a process that loses that race gets the stored reply back, so every
process sees the same history. Statements are short and run on the event loop's thread.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Any

from webdreamer.models.ledger import Ledger
from webdreamer.models.types import BudgetExceeded, ChatModel, Completion, ImagePart, Message, ModelError
from webdreamer.models.wrapper import CallParams, ModelWrapper

KEY_VERSION = 1


class CacheMode(StrEnum):
    OFF = "off"
    READ_WRITE = "read-write"
    READ_ONLY = "read-only"
    REPLAY_STRICT = "replay-strict"

    @classmethod
    def _missing_(cls, value: object) -> CacheMode | None:
        """Also accept underscores and the short ``replay`` (``read_write``, ``replay``)."""
        if isinstance(value, str):
            name = value.strip().lower().replace("_", "-")
            name = "replay-strict" if name == "replay" else name
            for mode in cls:
                if mode.value == name:
                    return mode
        return None


class CacheMissError(ModelError):
    """``replay-strict``: the request was not recorded, so the replay has diverged."""


def canonical_request(model: str, messages: list[Message], params: CallParams) -> dict[str, Any]:
    """The request as plain JSON data, images replaced by their SHA-256, floats normalised."""

    def content(m: Message) -> Any:
        if isinstance(m.content, str):
            return m.content
        return [
            {"type": "image", "sha256": p.digest(), "mime": p.mime, "detail": p.detail}
            if isinstance(p, ImagePart)
            else {"type": "text", "text": p.text}
            for p in m.content
        ]

    def num(x: float | None) -> float | None:
        return None if x is None else float(x)

    return {
        "v": KEY_VERSION,
        "model": model,
        "messages": [{"role": m.role, "content": content(m)} for m in messages],
        "n": params.n,
        "temperature": num(params.temperature),
        "top_p": num(params.top_p),
        "max_tokens": params.max_tokens,
        "logprobs": bool(params.logprobs or params.top_logprobs),
        "top_logprobs": params.top_logprobs,
        "stop": list(params.stop) if params.stop else None,
        "seed": params.seed,
    }


def request_hash(model: str, messages: list[Message], params: CallParams) -> str:
    data = json.dumps(
        canonical_request(model, messages, params), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(data.encode()).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    completion TEXT,
    error_type TEXT,
    error TEXT,
    created REAL NOT NULL
)
"""


class ResponseCache:
    """One SQLite cache file (see the module docstring). Cheap to open; share one per process and run."""

    def __init__(self, path: str | Path, mode: CacheMode | str = CacheMode.READ_WRITE) -> None:
        self.path = Path(path)
        self.mode = CacheMode(mode)
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._occurrences: Counter[str] = Counter()
        self._lock = threading.Lock()  # only guards the connection against use from several threads
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def new_session(self) -> None:
        """Restart the occurrence numbering (call at the start of each task / episode)."""
        self._occurrences.clear()

    def key_for(self, model: str, messages: list[Message], params: CallParams) -> str:
        """The storage key of this request's next occurrence (consumes it)."""
        digest = request_hash(model, messages, params)
        if params.temperature == 0:
            return f"{digest}/0"
        occurrence = self._occurrences[digest]
        self._occurrences[digest] += 1
        return f"{digest}/{occurrence}"

    def _row(self, key: str) -> tuple[str | None, str | None, str | None] | None:
        with self._lock:
            return self._db.execute(
                "SELECT completion, error_type, error FROM responses WHERE key = ?", (key,)
            ).fetchone()

    def lookup(self, key: str) -> Completion | None:
        """The recorded completion, or ``None``; in ``replay-strict`` a recorded failure is raised again."""
        row = self._row(key)
        if row is not None and row[0] is not None:
            self.hits += 1
            return Completion.model_validate_json(row[0])
        if row is not None and self.mode is CacheMode.REPLAY_STRICT:
            self.hits += 1
            kind = BudgetExceeded if row[1] == "BudgetExceeded" else ModelError
            raise kind(f"(replayed failure) {row[2]}")
        self.misses += 1
        return None

    def store(self, key: str, model: str, completion: Completion) -> Completion:
        """Record a success unless one is already there; returns the completion now on record."""
        data = completion.model_copy(update={"cached": False}).model_dump_json()
        with self._lock:
            self._db.execute(
                "INSERT INTO responses (key, model, completion, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET completion = excluded.completion, error_type = NULL, "
                "error = NULL, created = excluded.created WHERE responses.completion IS NULL",
                (key, model, data, time.time()),
            )
            row = self._db.execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
        self.writes += 1
        if row is None or row[0] == data:
            return completion
        stored = Completion.model_validate_json(row[0])
        # Another process recorded this occurrence first: adopt its reply, keep our own usage and timing.
        return stored.model_copy(
            update={
                "usage": completion.usage,
                "latency_s": completion.latency_s,
                "info": {**stored.info, "adopted_from_cache": True},
            }
        )

    def store_error(self, key: str, model: str, exc: BaseException) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO responses (key, model, error_type, error, created) VALUES (?, ?, ?, ?, ?)",
                (key, model, type(exc).__name__, str(exc), time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedModel(ModelWrapper):
    """Serves recorded replies of the wrapped model; hits are counted in the ledger at zero cost."""

    def __init__(
        self, inner: ChatModel, cache: ResponseCache, *, ledger: Ledger | None = None, role: str = ""
    ) -> None:
        super().__init__(inner)
        self.cache = cache
        self.ledger = ledger
        self.role = role

    async def _call(self, messages: list[Message], params: CallParams) -> Completion:
        cache = self.cache
        if cache.mode is CacheMode.OFF:
            return await self.inner.complete(messages, **params.kwargs())
        t0 = time.perf_counter()
        key = cache.key_for(self.name, messages, params)
        try:
            hit = cache.lookup(key)
        except ModelError:  # a recorded failure, replayed
            if self.ledger is not None:
                self.ledger.record_cache_hit(self.role, self.name, None)
            raise
        if hit is not None:
            hit = hit.model_copy(
                update={
                    "cached": True,
                    "latency_s": time.perf_counter() - t0,
                    "info": {**hit.info, "recorded_latency_s": hit.latency_s},
                }
            )
            if self.ledger is not None:
                self.ledger.record_cache_hit(self.role, self.name, hit)
            return hit
        if cache.mode is CacheMode.REPLAY_STRICT:
            raise CacheMissError(
                f"{self.name} ({self.role or 'no role'}): request {key} was not recorded in {cache.path}; "
                "replay-strict allows no new calls"
            )
        try:
            completion = await self.inner.complete(messages, **params.kwargs())
        except ModelError as exc:
            if cache.mode is CacheMode.READ_WRITE:
                cache.store_error(key, self.name, exc)
            raise
        if cache.mode is CacheMode.READ_WRITE:
            completion = cache.store(key, self.name, completion)
        return completion
