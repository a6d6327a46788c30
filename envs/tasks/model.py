"""The Task: one benchmark item, whatever format it came from, with its evaluation kept as given."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Format = Literal["webarena", "vwa", "mind2web-live", "online-mind2web", "adhoc"]


class Task(BaseModel):
    id: str
    intent: str
    start_urls: list[str] = Field(default_factory=list)  # one tab each; the first is active
    sites: list[str] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)  # task input images: paths or URLs
    # The benchmark's own evaluation spec, untouched: WA/VWA `eval` dict, Mind2Web-Live key-node
    # list, or None for Online-Mind2Web (judged from the trajectory).
    evaluation: dict[str, Any] | list[dict[str, Any]] | None = None
    format: Format = "adhoc"
    source: str = ""  # the file it came from
    reference_solution: list[str] | None = None
    viewport: dict[str, int] | None = None
    require_login: bool = False
    storage_state: str | None = None
    require_reset: bool = False
    difficulty: str | None = None
    reference_length: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)  # every other field of the original
    unresolved: list[str] = Field(default_factory=list)  # placeholders no site URL was given for

    @classmethod
    def adhoc(cls, intent: str, start_url: str | list[str] = "about:blank", **kw: Any) -> Task:
        """A task from an intent and a start URL, for `agent.run("...", start_url=...)`."""
        urls = [start_url] if isinstance(start_url, str) else list(start_url)
        return cls(id=kw.pop("id", "adhoc"), intent=intent, start_urls=urls, **kw)

    @property
    def uid(self) -> str:
        """Unique across files: VisualWebArena's ids restart at 0 in every site file."""
        if not self.source:
            return self.id
        stem = self.source.replace("\\", "/").rsplit("/", 1)[-1]
        stem = stem.removesuffix(".json").removesuffix(".raw")
        return f"{stem}/{self.id}"

    def login_sites(self) -> list[str]:
        """Sites to log in to: named by the storage_state file (`gitlab.reddit_state.json`), as WA does."""
        if not self.require_login and not self.storage_state:
            return []
        if self.storage_state:
            stem = self.storage_state.rsplit("/", 1)[-1].removesuffix("_state.json")
            return [s for s in stem.split(".") if s]
        return list(self.sites)
