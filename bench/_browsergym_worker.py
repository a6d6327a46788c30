"""BrowserGym's side of `bench/observation.py`; runs inside `.venv-bench` (browsergym-core).

browsergym-core pins a Playwright release that conflicts with ours, so this script lives in its
own virtualenv and imports nothing from webdreamer: only the standard library, Playwright and
browsergym. It speaks JSON lines on stdin/stdout so that the orchestrator can interleave its
repeats with ours, page by page (the two sides then see the same machine load):

  first line  {"executable", "args", "viewport", "cookies"}  ->  {"ready": true, "baseline", "playwright"}
  {"cmd": "open", "url", "miniwob_seed"}  ->  {"ok": true, "warm_s"} or {"error"}   (opens, warms up once)
  {"cmd": "time"}                         ->  {"t", "chars", "ax_nodes"} or {"error"}
  {"cmd": "dump", "path"}                 ->  {"ok": true}   (the last text, to a file)
  {"cmd": "quit"}                         ->  (exits)

One observation is what `browsergym.core.env.BrowserEnv._get_obs` does for the text observation
(marking, DOM snapshot, merged AX tree, focused bid, extra properties, clean-up, with its retry on
marking races) followed by `flatten_axtree_to_str`, ignoring the roles that platform.md §5 says to
ignore on Chromium 156.
"""

from __future__ import annotations

import json
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from browsergym.core.constants import BROWSERGYM_ID_ATTRIBUTE
from browsergym.core.observation import (
    MarkingError,
    _post_extract,
    _pre_extract,
    extract_dom_extra_properties,
    extract_dom_snapshot,
    extract_focused_element_bid,
    extract_merged_axtree,
)
from browsergym.utils.obs import flatten_axtree_to_str
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

IGNORED_ROLES = ["LineBreak", "InlineTextBox"]
MINIWOB_START = """(seed) => {
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = 1000000;
  core.startEpisodeReal();
}"""


def observe(page: Page) -> tuple[str, int]:
    """One text observation, built the way BrowserGym's env builds it."""
    for tries_left in (2, 1, 0):
        try:
            _pre_extract(page, tags_to_mark="standard_html", lenient=tries_left == 0)
            dom = extract_dom_snapshot(page)
            axtree = extract_merged_axtree(page)
            extract_focused_element_bid(page)
            props = extract_dom_extra_properties(dom, scale_factor=1.0)
        except (PlaywrightError, MarkingError):
            _post_extract(page)
            if tries_left == 0:
                raise
            time.sleep(0.2)
            continue
        _post_extract(page)
        text = flatten_axtree_to_str(axtree, extra_properties=props, ignored_roles=IGNORED_ROLES)
        return text, len(axtree["nodes"])
    raise AssertionError("unreachable")


def _error(exc: BaseException) -> dict[str, str]:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return {"error": f"{type(exc).__name__}: {first}"}


def reply(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> int:
    job = json.loads(sys.stdin.readline())
    with sync_playwright() as pw:
        pw.selectors.set_test_id_attribute(BROWSERGYM_ID_ATTRIBUTE)
        browser = pw.chromium.launch(executable_path=job.get("executable"), headless=True, args=job["args"])
        context = browser.new_context(viewport=job["viewport"], device_scale_factor=1)
        if job.get("cookies"):
            context.add_cookies(job["cookies"])
        reply(
            {
                "ready": True,
                "baseline": f"browsergym-core {metadata.version('browsergym-core')}",
                "playwright": metadata.version("playwright"),
            }
        )
        page: Page | None = None
        text = ""
        for line in sys.stdin:
            msg = json.loads(line)
            cmd = msg.get("cmd")
            if cmd == "quit":
                break
            try:
                if cmd == "open":
                    if page is not None:
                        page.close()
                    page = context.new_page()
                    page.goto(msg["url"], wait_until="load")
                    if msg.get("miniwob_seed") is not None:
                        page.evaluate(MINIWOB_START, msg["miniwob_seed"])
                        page.wait_for_function("() => window.WOB_TASK_READY === true", timeout=10_000)
                    t0 = time.perf_counter()
                    text, _ = observe(page)  # warm-up: first marking, caches, JIT
                    reply({"ok": True, "warm_s": time.perf_counter() - t0})
                elif cmd == "time":
                    assert page is not None, "no page open"
                    t0 = time.perf_counter()
                    text, nodes = observe(page)
                    reply({"t": time.perf_counter() - t0, "chars": len(text), "ax_nodes": nodes})
                elif cmd == "dump":
                    Path(msg["path"]).write_text(text)
                    reply({"ok": True})
                else:
                    reply({"error": f"unknown command {cmd!r}"})
            except Exception as exc:
                reply(_error(exc))
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
