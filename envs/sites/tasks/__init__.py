"""Task files over the bundled sites, in the benchmarks' own formats (with placeholder URLs).

- `local_vwa.json`: VisualWebArena config format (`__SHOPPING__`, `__REDDIT__`, `__CLASSIFIEDS__`).
- `local_mind2web_live.json`: Mind2Web-Live (WebCanvas) key-node format.

Each task also carries `reference_solution`: WebArena-grammar actions whose element slot is a
reference `role 'accessible name'` (the first such element in document order), resolved at run
time. This package exists so that the JSON files ship with the wheel.
"""

from __future__ import annotations

from pathlib import Path

TASKS_DIR = Path(__file__).resolve().parent
LOCAL_VWA = TASKS_DIR / "local_vwa.json"
LOCAL_MIND2WEB_LIVE = TASKS_DIR / "local_mind2web_live.json"

__all__ = ["LOCAL_MIND2WEB_LIVE", "LOCAL_VWA", "TASKS_DIR"]
