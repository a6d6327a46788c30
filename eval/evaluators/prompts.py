"""Judge prompt templates: plain text files under ``prompts/judges/`` with ``{placeholders}``.

Templates are files so they can be read, diffed and swapped without touching code. Leading lines
that start with ``#:`` are notes for maintainers (provenance, caveats) and are dropped on load.
Only the placeholders a caller names are filled, in a single pass, so braces in the template's
own text and in the filled-in values (a task may contain ``{``) are left alone.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

PROMPTS_ENV = "WEBDREAMER_PROMPTS_DIR"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def prompts_dir() -> Path:
    """The ``prompts/`` folder: ``$WEBDREAMER_PROMPTS_DIR`` if set, else the repository's own."""
    override = os.environ.get(PROMPTS_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "prompts"


@functools.cache
def _read(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    while lines and lines[0].startswith("#:"):
        lines.pop(0)
    return "".join(lines)


def load_template(name: str, base: Path | None = None) -> str:
    """Read ``judges/<name>`` (or ``<base>/<name>``) without its ``#:`` note lines."""
    root = base if base is not None else prompts_dir() / "judges"
    return _read((root / name).resolve())


def render(template: str, **values: object) -> str:
    """Fill ``{name}`` placeholders that appear in ``values``; anything else stays as written."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(values[key]) if key in values else match.group(0)

    return _PLACEHOLDER.sub(fill, template)


def render_file(name: str, base: Path | None = None, **values: object) -> str:
    """Load and fill a template in one call."""
    return render(load_template(name, base), **values)
