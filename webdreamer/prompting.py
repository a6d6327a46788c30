"""Filling prompt templates from the `prompts/` folder.

Slots are written `{{ name }}`. Rendering refuses unknown slots and unused values, so a template
and its caller can never silently drift apart.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_SLOT = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


class PromptError(KeyError):
    """A template was asked for a slot nobody filled, or given a value it has no slot for."""


@cache
def template(name: str) -> str:
    """The template `prompts/<name>` (e.g. "policy/system.md")."""
    return resources.files("prompts").joinpath(name).read_text()


def render(name: str, **values: object) -> str:
    text = template(name)
    wanted = set(_SLOT.findall(text))
    missing = wanted - values.keys()
    extra = values.keys() - wanted
    if missing or extra:
        raise PromptError(f"prompt {name}: missing slots {sorted(missing)}, unknown values {sorted(extra)}")
    return _SLOT.sub(lambda m: str(values[m.group(1)]), text).strip()
