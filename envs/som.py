"""Set-of-Marks screenshots (VisualWebArena style): numbered boxes over the interactive elements.

Boxes are drawn by a temporary overlay in the top document, so the browser renders them at the
right place over iframes too; it is removed right after the screenshot. The numbers are our
stable element ids, so the same id works in the text, in the image and in actions.
"""

from __future__ import annotations

from playwright.async_api import Page

from envs.extract import Extraction
from envs.observation import SetOfMarks

_COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324", "#800000", "#000075"]

_DRAW = """(marks) => {
  const root = document.createElement('div');
  root.id = '__webdreamer_som__';
  root.style.cssText = 'position:fixed;left:0;top:0;width:0;height:0;z-index:2147483647;pointer-events:none';
  for (const [id, x, y, w, h, color] of marks) {
    const box = document.createElement('div');
    box.style.cssText = `position:fixed;left:${x}px;top:${y}px;width:${w}px;height:${h}px;` +
      `border:2px solid ${color};box-sizing:border-box;pointer-events:none`;
    root.appendChild(box);
    if (w < 8 || h < 8) continue;
    const tag = document.createElement('div');
    tag.textContent = String(id);
    const ty = y >= 16 ? y - 16 : y;
    tag.style.cssText = `position:fixed;left:${Math.max(0, x)}px;top:${ty}px;background:${color};color:#fff;` +
      'font:bold 11px/14px monospace;padding:0 3px;border-radius:2px;pointer-events:none';
    root.appendChild(tag);
  }
  document.documentElement.appendChild(root);
}"""

_REMOVE = "() => { const r = document.getElementById('__webdreamer_som__'); if (r) r.remove(); }"


async def render_som(page: Page, ext: Extraction, max_area_ratio: float = 0.8) -> SetOfMarks:
    vw, vh = ext.viewport
    marks: list[list[object]] = []
    ids: list[int] = []
    lines: list[str] = []
    seen_text: set[str] = set()
    for n in ext.nodes:
        b = n.get("b")
        if not n.get("v") or not b:
            continue
        if n.get("i") is not None and n.get("x"):
            x, y, w, h = b
            if w <= 0 or h <= 0 or w * h > max_area_ratio * vw * vh:
                continue
            ids.append(n["i"])
            marks.append([n["i"], x, y, w, h, _COLORS[n["i"] % len(_COLORS)]])
            lines.append(f"[{n['i']}] [{n.get('t', '').upper()}] [{n.get('n', '')}]")
        elif n["r"] == "StaticText" and n.get("n") and n["n"] not in seen_text:
            seen_text.add(n["n"])
            lines.append(f"[] [StaticText] [{n['n']}]")
    await page.evaluate(_DRAW, marks)
    try:
        image = await page.screenshot(type="png")
    finally:
        await page.evaluate(_REMOVE)
    return SetOfMarks(image=image, lines="\n".join(lines), ids=ids)
