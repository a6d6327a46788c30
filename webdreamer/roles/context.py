"""What every role reads about the current step, rendered once per step and shared.

Rendering lives here so that the policy, refiner, world model and scorer describe the same page,
history and images in the same words.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from envs.observation import Observation
from envs.tasks.model import Task
from envs.urlmap import UrlMapper


@dataclass(frozen=True)
class PastAction:
    action: str  # canonical
    description: str
    error: str | None = None  # what went wrong when it ran, if anything


@dataclass
class StepContext:
    task: Task
    obs: Observation
    history: list[PastAction] = field(default_factory=list)
    observation_chars: int = 12_000
    task_images: list[bytes] = field(default_factory=list)
    step: int = 0
    seed: int = 0  # for sampling backends that honour a seed (local models, some servers)
    urls: UrlMapper | None = None  # WebArena-style public names for local sites, in prompts

    def public(self, text: str) -> str:
        return self.urls.to_public(text) if self.urls else text

    @property
    def url(self) -> str:
        return self.public(self.obs.url)

    @cached_property
    def observation_text(self) -> str:
        text = self.public(self.obs.text or "(the page is empty)")
        if len(text) <= self.observation_chars:
            return text
        cut = text.rfind("\n", 0, self.observation_chars)
        shown = text[: cut if cut > 0 else self.observation_chars]
        hidden = text.count("\n", len(shown))
        return f"{shown}\n[... {hidden} more lines not shown]"

    def history_text(self, limit: int | None = None) -> str:
        items = self.history[-limit:] if limit else self.history
        if not items:
            return "None"
        start = len(self.history) - len(items) + 1
        lines = []
        for i, h in enumerate(items, start):
            line = f"{i}. {h.description} ({h.action})"
            if h.error:
                line += f" -- it failed: {h.error}"
            lines.append(line)
        return self.public("\n".join(lines))

    def error_note(self) -> str:
        return f"NOTE: the last action went wrong: {self.obs.error}" if self.obs.error else ""

    def images(self, vision: bool, som: bool = True) -> list[bytes]:
        """Task input images first, then the page (with marks when available), as VWA orders them."""
        if not vision:
            return []
        page = self.obs.som.image if (som and self.obs.som) else self.obs.screenshot
        return [*self.task_images, *([page] if page else [])]


def load_task_images(task: Task, timeout_s: float = 10) -> tuple[list[bytes], list[str]]:
    """Read the task's input images (paths, or http URLs of the benchmark's own sites)."""
    images: list[bytes] = []
    problems: list[str] = []
    for ref in task.images:
        try:
            if ref.startswith(("http://", "https://")):
                with urllib.request.urlopen(ref, timeout=timeout_s) as resp:
                    images.append(resp.read())
            else:
                path = Path(ref)
                if not path.is_absolute() and task.source and not path.exists():
                    path = Path(task.source).parent / ref
                images.append(path.read_bytes())
        except OSError as exc:
            problems.append(f"task image {ref} could not be read: {exc}")
    return images, problems
