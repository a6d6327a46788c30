"""Interactive-element recall for bench/observation.py, and the per-page result it fills in.

Every visible, non-ignored node of Chromium's own accessibility tree (CDP, all frames) with an
interactive role must map (by backendDOMNodeId) to an element whose webdreamer id appears in our
text; for information, the same check for visible elements that have a click listener.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from dataclasses import dataclass, field
from typing import Any

from obs_baselines import PageSpec
from playwright.async_api import BrowserContext, CDPSession, Page
from playwright.async_api import Error as PlaywrightError

# Roles a user acts on (Chromium's role names); `option` only when its parent is a listbox.
INTERACTIVE_ROLES = {
    "link", "button", "textbox", "searchbox", "combobox", "checkbox", "radio", "listbox", "option",
    "slider", "spinbutton", "switch", "tab", "menuitem", "menuitemcheckbox", "menuitemradio",
}  # fmt: skip

# Runs on the DOM node behind a CDP node: is it visible, and which webdreamer id stands for it?
# `mode` "ax" (an accessibility node) or "click" (an element with a click listener).
PROBE_JS = """function (mode) {
  // Elements that cannot host an author shadow root: a shadow root on them is the browser's own.
  const UA_HOSTS = new Set(["INPUT", "TEXTAREA", "SELECT", "VIDEO", "AUDIO", "METER", "PROGRESS", "DETAILS"]);
  const el = this.nodeType === 1 ? this : this.parentElement;
  if (!el) return null;
  const r = el.getBoundingClientRect();
  const visible = el.checkVisibility({ visibilityProperty: true }) && r.width > 0 && r.height > 0;
  let target = el, via = null;
  const root = el.getRootNode();
  if (root instanceof ShadowRoot && UA_HOSTS.has(root.host.tagName)) {
    target = root.host;  // a part of a built-in control (date field, picker button): the control
    via = "host";
  } else if (el.tagName === "OPTION" && el.closest("select")) {
    target = el.closest("select");
    via = "select";
  } else if (mode === "click" && el.tagName === "LABEL" && el.control) {
    target = el.control;  // a label clicks its control
    via = "label";
  } else if (mode === "click" && el.isContentEditable && el.parentElement && el.parentElement.isContentEditable) {
    while (target.parentElement && target.parentElement.isContentEditable) target = target.parentElement;
    via = "editor";  // text inside an editable region: the region
  }
  const store = window.__webdreamer_ids__;
  const id = store ? (store.ids.get(target) ?? null) : null;
  // A listener on a container (delegation, drag handles) is served by the ids inside it.
  const inner = [];
  if (mode === "click" && id === null && store) {
    for (const d of target.querySelectorAll("*")) {
      const i = store.ids.get(d);
      if (i !== undefined && inner.push(i) >= 20) break;
    }
  }
  const html = target.outerHTML.replace(/\\s+/g, " ");
  const text = (el.textContent || "").replace(/\\s+/g, " ").trim();
  return { visible, id, inner, tag: target.tagName.toLowerCase(), via,
           html: html.length > 140 ? html.slice(0, 139) + "…" : html,
           text: text.length > 60 ? text.slice(0, 59) + "…" : text };
}"""

ID_RE = re.compile(r"^\t*\[(\d+)\] ", re.MULTILINE)


@dataclass
class Miss:
    role: str
    name: str
    tag: str
    reason: str
    html: str


@dataclass
class Result:
    spec: PageSpec
    ours_times: list[float] = field(default_factory=list)
    ours_chars: int | None = None
    ours_error: str | None = None
    base_times: list[float] = field(default_factory=list)
    base_chars: int | None = None
    base_error: str | None = None
    interactive: int = 0
    unresolved: int = 0
    clickable: int = 0
    clickable_misses: list[Miss] = field(default_factory=list)
    clickable_credited: dict[str, int] = field(default_factory=dict)
    credited: dict[str, int] = field(default_factory=dict)  # nodes counted through their <select> or control
    misses: list[Miss] = field(default_factory=list)
    recall_error: str | None = None

    @property
    def ours_median(self) -> float | None:
        return statistics.median(self.ours_times) if self.ours_times else None

    @property
    def base_median(self) -> float | None:
        return statistics.median(self.base_times) if self.base_times else None

    @property
    def time_ratio(self) -> float | None:
        a, b = self.ours_median, self.base_median
        return a / b if a is not None and b else None

    @property
    def size_ratio(self) -> float | None:
        a, b = self.ours_chars, self.base_chars
        return a / b if a is not None and b else None


async def ax_trees(context: BrowserContext, page: Page) -> list[tuple[CDPSession, list[dict[str, Any]]]]:
    """(CDP session, AX nodes) for every frame: same-process frames through the page's session,
    out-of-process (cross-site) iframes through their own."""
    main = await context.new_cdp_session(page)
    tree = (await main.send("Page.getFrameTree"))["frameTree"]
    todo, out = [tree], []
    while todo:
        t = todo.pop()
        todo.extend(t.get("childFrames", []))
        try:
            ax = await main.send("Accessibility.getFullAXTree", {"frameId": t["frame"]["id"]})
        except PlaywrightError:
            continue  # a frame of another process: handled below
        out.append((main, ax["nodes"]))
    for frame in page.frames[1:]:
        try:
            session = await context.new_cdp_session(frame)  # only out-of-process frames have one
        except PlaywrightError:
            continue
        out.append((session, (await session.send("Accessibility.getFullAXTree"))["nodes"]))
    return out


def interactive_nodes(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {n["nodeId"]: n for n in nodes}

    def parent_role(n: dict[str, Any]) -> str:
        p = by_id.get(n.get("parentId", ""))
        while p is not None and (p.get("ignored") or p.get("role", {}).get("value") in ("generic", "none")):
            p = by_id.get(p.get("parentId", ""))
        return p.get("role", {}).get("value", "") if p else ""

    keep = []
    for n in nodes:
        role = n.get("role", {}).get("value", "")
        if n.get("ignored") or role not in INTERACTIVE_ROLES or "backendDOMNodeId" not in n:
            continue
        if role == "option" and parent_role(n) != "listbox":
            continue  # options of a drop-down (combobox) are chosen with `select` on the list
        keep.append(n)
    return keep


async def probe_nodes(session: CDPSession, backend_ids: list[int], mode: str) -> list[dict[str, Any] | None]:
    """Run PROBE_JS on the DOM node behind each backend node id (None where it cannot be resolved)."""

    async def probe(backend_id: int) -> dict[str, Any] | None:
        try:
            obj = await session.send(
                "DOM.resolveNode", {"backendNodeId": backend_id, "objectGroup": "wd-bench"}
            )
            res = await session.send(
                "Runtime.callFunctionOn",
                {
                    "objectId": obj["object"]["objectId"],
                    "functionDeclaration": PROBE_JS,
                    "arguments": [{"value": mode}],
                    "returnByValue": True,
                },
            )
            value: dict[str, Any] | None = res.get("result", {}).get("value")
            return value
        except PlaywrightError:
            return None

    out: list[dict[str, Any] | None] = []
    for k in range(0, len(backend_ids), 200):  # pipelined, a batch at a time
        out += await asyncio.gather(*(probe(b) for b in backend_ids[k : k + 200]))
    try:
        await session.send("Runtime.releaseObjectGroup", {"objectGroup": "wd-bench"})
    except PlaywrightError:
        pass
    return out


async def clickable_nodes(session: CDPSession) -> list[int]:
    """Backend ids of elements with a click listener (DOMSnapshot's isClickable), <html>/<body> aside."""
    snap = await session.send("DOMSnapshot.captureSnapshot", {"computedStyles": []})
    strings = snap["strings"]
    out = []
    for doc in snap["documents"]:
        nodes = doc["nodes"]
        for i in nodes.get("isClickable", {}).get("index", []):
            if strings[nodes["nodeName"][i]] not in ("HTML", "BODY"):
                out.append(nodes["backendNodeId"][i])
    return out


def _judge(p: dict[str, Any], shown: set[int], role: str, name: str) -> Miss | None:
    if p["id"] is None:
        return Miss(role, name, p["tag"], "no id", p["html"])
    if p["id"] not in shown:
        return Miss(role, name, p["tag"], f"id {p['id']} not in text", p["html"])
    return None


async def check_recall(context: BrowserContext, page: Page, text: str, result: Result) -> None:
    shown = {int(m) for m in ID_RE.findall(text)}
    trees = await ax_trees(context, page)
    for session, nodes in trees:
        cands = interactive_nodes(nodes)
        probes = await probe_nodes(session, [n["backendDOMNodeId"] for n in cands], "ax")
        for n, p in zip(cands, probes, strict=True):
            if p is None:
                result.unresolved += 1  # gone before we looked, or not an element of this document
                continue
            if not p["visible"]:
                continue
            result.interactive += 1
            miss = _judge(p, shown, n["role"]["value"], str(n.get("name", {}).get("value", "")))
            if miss:
                result.misses.append(miss)
            elif p["via"]:
                result.credited[p["via"]] = result.credited.get(p["via"], 0) + 1
    # Informational: elements that script made clickable, whatever their role (often none).
    for session in dict.fromkeys(s for s, _ in trees):
        backend_ids = await clickable_nodes(session)
        for p in await probe_nodes(session, backend_ids, "click"):
            if p is None or not p["visible"]:
                continue
            result.clickable += 1
            miss = _judge(p, shown, "clickable", p["text"])
            if miss and any(i in shown for i in p["inner"]):
                miss, p["via"] = None, "inner ids"
            if miss:
                result.clickable_misses.append(miss)
            elif p["via"]:
                result.clickable_credited[p["via"]] = result.clickable_credited.get(p["via"], 0) + 1
