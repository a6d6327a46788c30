"""Turning a live page (all frames) into the text observation and its element list.

One `evaluate` per frame walks the composed DOM (see js/extract.js); this module stitches the
frames together, renders the accessibility-style text and prunes it to a size budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from playwright.async_api import Frame, Page
from pydantic import BaseModel

from envs.observation import Element

Node = dict[str, Any]

_IFRAME_INFO = """(el) => {
  const s = window.__webdreamer_ids__;
  const r = el.getBoundingClientRect();
  return [s ? (s.ids.get(el) ?? null) : null, r.left + el.clientLeft, r.top + el.clientTop];
}"""


@cache
def extract_js() -> str:
    return resources.files("envs").joinpath("js/extract.js").read_text()


class TextOptions(BaseModel):
    """How the text observation is rendered."""

    max_chars: int | None = None  # size budget; None keeps everything
    include_urls: bool = False  # show link targets (bigger text, sometimes needed)
    max_name: int = 200
    max_text: int = 600
    dedup_window: int = 3  # drop a StaticText already said in one of the previous N lines (WebArena's rule)


@dataclass
class Extraction:
    nodes: list[Node]
    elements: list[Element]
    frames: list[Frame]
    id_frames: dict[int, Frame]
    next_id: int
    focused: int | None
    viewport: tuple[int, int]
    scroll: tuple[int, int]
    page_size: tuple[int, int]


def _shift(nodes: list[Node], depth: int, dx: float, dy: float) -> None:
    for n in nodes:
        n["d"] += depth
        b = n.get("b")
        if b:
            n["b"] = [round(b[0] + dx), round(b[1] + dy), b[2], b[3]]


async def _extract_frame(
    frame: Frame,
    start: int,
    opts: TextOptions,
    out_frames: list[Frame],
    dx: float,
    dy: float,
) -> tuple[list[Node], int, int | None, dict[str, Any]]:
    """Extract one frame and, recursively, its child frames spliced under their iframe lines."""
    args = {
        "start": start,
        "maxName": opts.max_name,
        "maxText": opts.max_text,
        "includeUrls": opts.include_urls,
    }
    res: dict[str, Any] = json.loads(await frame.evaluate(extract_js(), args))
    index = len(out_frames)
    out_frames.append(frame)
    nodes: list[Node] = res["nodes"]
    for n in nodes:
        n["f"] = index
    _shift(nodes, 0, dx, dy)
    next_id: int = res["next"]
    focused: int | None = res["focused"]
    for child in frame.child_frames:
        if child.is_detached():
            continue
        try:
            handle = await child.frame_element()
            iframe_id, left, top = await frame.evaluate(_IFRAME_INFO, handle)
        except Exception:  # a frame detached or navigated while we looked: skip it
            continue
        if iframe_id is None:
            continue
        pos = next((k for k, n in enumerate(nodes) if n.get("i") == iframe_id), None)
        if pos is None:
            continue
        try:
            sub, next_id, sub_focus, _ = await _extract_frame(
                child, next_id, opts, out_frames, dx + left, dy + top
            )
        except Exception:
            continue
        _shift(sub, nodes[pos]["d"] + 1, 0, 0)
        nodes[pos + 1 : pos + 1] = sub
        if sub_focus is not None and (focused is None or focused == iframe_id):
            focused = sub_focus
    return nodes, next_id, focused, res


def _in_view(b: list[int] | None, vw: int, vh: int) -> bool:
    if not b:
        return False
    x, y, w, h = b
    return x < vw and y < vh and x + w > 0 and y + h > 0


async def extract(page: Page, start_id: int, opts: TextOptions) -> Extraction:
    frames: list[Frame] = []
    nodes, next_id, focused, res = await _extract_frame(page.main_frame, start_id, opts, frames, 0, 0)
    vw, vh = res["viewport"]
    elements: list[Element] = []
    id_frames: dict[int, Frame] = {}
    for n in nodes:
        n["v"] = _in_view(n.get("b"), vw, vh)
        if n.get("i") is None:
            continue
        b = n.get("b")
        el = Element(
            id=n["i"],
            role=n["r"],
            name=n.get("n", ""),
            tag=n.get("t", ""),
            props=n.get("p") or {},
            bbox=tuple(b) if b else None,
            interactive=bool(n.get("x")),
            in_viewport=n["v"],
            frame=n["f"],
        )
        elements.append(el)
        id_frames[el.id] = frames[n["f"]]
    return Extraction(
        nodes=nodes,
        elements=elements,
        frames=frames,
        id_frames=id_frames,
        next_id=next_id,
        focused=focused,
        viewport=(vw, vh),
        scroll=tuple(res["scroll"]),
        page_size=tuple(res["page"]),
    )


def _line(n: Node) -> str:
    head = f"[{n['i']}] " if n.get("i") is not None else ""
    props = "".join(f" {k}: {v}" for k, v in (n.get("p") or {}).items())
    return f"{chr(9) * n['d']}{head}{n['r']} {n.get('n', '')!r}{props}"


def render_text(nodes: list[Node], header: str, opts: TextOptions) -> tuple[str, bool]:
    """Render the kept nodes as `[id] role 'name' props` lines; prune to the budget if set.

    Pruning order when over budget: text outside the viewport, then anything outside the viewport
    that is not interactive, then the tail (with a note saying how much was left out).
    """
    kept: list[Node] = []
    recent: list[str] = []
    for n in nodes:
        name = n.get("n", "")
        if n["r"] == "StaticText" and any(name and name in r for r in recent[-opts.dedup_window :]):
            continue
        kept.append(n)
        recent.append(name)
    lines = [_line(n) for n in kept]
    text = header + "\n\n" + "\n".join(lines) if header else "\n".join(lines)
    if opts.max_chars is None or len(text) <= opts.max_chars:
        return text, False
    for drop in (
        lambda n: n["r"] == "StaticText" and not n["v"],
        lambda n: not n["v"] and not n.get("x"),
    ):
        kept = [n for n in kept if not drop(n)]
        lines = [_line(n) for n in kept]
        text = header + "\n\n" + "\n".join(lines)
        if len(text) <= opts.max_chars:
            return text, True
    budget = opts.max_chars - len(header) - 80
    out: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        out.append(line)
        used += len(line) + 1
    note = f"[... {len(lines) - len(out)} more lines not shown; scroll or narrow the page to see them]"
    return header + "\n\n" + "\n".join([*out, note]), True
