"""Executing parsed actions in the browser.

Elements are found through the id map the extractor keeps on each frame's window, so an id
always means the node it was given to. Every failure becomes an ActionError with a sentence the
agent can read in its next observation; nothing here crashes an episode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.async_api import ElementHandle
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from envs.actions import Action, Kind

if TYPE_CHECKING:
    from envs.actions import ActionSpace
    from envs.session import Session

_LOOKUP = """(id) => {
  const s = window.__webdreamer_ids__;
  const r = s && s.byId.get(id);
  const el = r ? r.deref() : null;
  return el && el.isConnected ? el : null;
}"""

_SCROLL = "(d) => window.scrollBy(0, d * window.innerHeight)"


class ActionError(RuntimeError):
    """An action that could not be carried out; the message is shown to the agent."""


def _resolve_id(session: Session, action: Action) -> int:
    if action.element_id is not None:
        return action.element_id
    if action.target is not None and session.last is not None:
        wanted = " ".join(action.target.name.split()).casefold()
        for exact in (True, False):
            for el in session.last.elements:
                if el.role != action.target.role:
                    continue
                if (
                    (el.name == action.target.name)
                    if exact
                    else (" ".join(el.name.split()).casefold() == wanted)
                ):
                    return el.id
        raise ActionError(f"no {action.target.role} named {action.target.name!r} on the page")
    raise ActionError("the action names no element")


async def _element(session: Session, action: Action) -> ElementHandle:
    return await element_handle(session, _resolve_id(session, action))


async def element_handle(session: Session, element_id: int) -> ElementHandle:
    """The DOM element an id was given to; ActionError if it is gone."""
    frame = session.frame_of(element_id)
    if frame is None or frame.is_detached():
        raise ActionError(f"there is no element with id [{element_id}] on the current page")
    handle = (await frame.evaluate_handle(_LOOKUP, element_id)).as_element()
    if handle is None:
        raise ActionError(f"the element [{element_id}] is no longer on the page")
    return handle


def _short(exc: Exception) -> str:
    """Playwright's first message line, without its call log."""
    text = str(exc).split("\n", 1)[0]
    for prefix in ("ElementHandle.", "Page.", "Keyboard.", "Mouse."):
        if text.startswith(prefix):
            text = text.split(": ", 1)[-1]
    return text


async def execute(session: Session, action: Action, space: ActionSpace) -> None:
    timeout = session.action_timeout_ms
    try:
        await _run(session, action, space, timeout)
    except ActionError:
        raise
    except PlaywrightTimeout as exc:
        raise ActionError(f"{action.canonical()} timed out: {_short(exc)}") from exc
    except PlaywrightError as exc:
        raise ActionError(f"{action.canonical()} failed: {_short(exc)}") from exc


async def _run(session: Session, action: Action, space: ActionSpace, timeout_ms: float) -> None:
    timeout = timeout_ms
    page = session.page
    match action.kind:
        case Kind.CLICK:
            el = await _element(session, action)
            await el.click(timeout=timeout)
        case Kind.HOVER:
            el = await _element(session, action)
            await el.hover(timeout=timeout)
        case Kind.TYPE:
            el = await _element(session, action)
            await _type(el, action, space, timeout)
            if action.press_enter:
                await page.keyboard.press("Enter")
        case Kind.CLEAR:
            el = await _element(session, action)
            await el.fill("", timeout=timeout)
        case Kind.SELECT:
            el = await _element(session, action)
            await _select(el, action.text, timeout)
        case Kind.PRESS:
            await page.keyboard.press(action.text)
        case Kind.SCROLL:
            await page.evaluate(_SCROLL, 1 if action.direction == "down" else -1)
        case Kind.NEW_TAB:
            page = await session.new_page()
            session.active = session.pages.index(page)
        case Kind.TAB_FOCUS:
            idx = action.tab_index if action.tab_index is not None else -1
            if not 0 <= idx < len(session.pages):
                raise ActionError(f"there is no tab {idx} (open tabs: 0 to {len(session.pages) - 1})")
            session.active = idx
            await session.page.bring_to_front()
        case Kind.CLOSE_TAB:
            if len(session.pages) == 1:
                raise ActionError("the last tab cannot be closed")
            await page.close()
            session.active = len(session.pages) - 1
            await session.page.bring_to_front()
        case Kind.GOTO:
            reason = session.policy.check(action.text)
            if reason:
                raise ActionError(reason)
            await page.goto(action.text, wait_until="domcontentloaded", timeout=max(timeout, 10_000))
        case Kind.GO_BACK:
            if await page.go_back(wait_until="domcontentloaded") is None and page.url in ("", "about:blank"):
                raise ActionError("there is no previous page")
        case Kind.GO_FORWARD:
            await page.go_forward(wait_until="domcontentloaded")
        case Kind.STOP:
            return
        case Kind.NONE:
            raise ActionError("no valid action was given")


async def _type(el: ElementHandle, action: Action, space: ActionSpace, timeout_ms: float) -> None:
    timeout = timeout_ms
    if space.type_clears:
        try:
            await el.fill(action.text, timeout=timeout)
            return
        except PlaywrightError as exc:
            if "not an <input>" not in str(exc) and "Element is not" not in str(exc):
                raise
    # WebArena's behaviour (or a non-fillable element): click, then type key by key.
    await el.click(timeout=timeout)
    await el.type(action.text)


async def _select(el: ElementHandle, option: str, timeout_ms: float) -> None:
    timeout = timeout_ms
    tag = await el.evaluate("(e) => e.tagName")
    if tag != "SELECT":
        raise ActionError("select works on drop-down lists (<select>); click the option instead")
    labels: list[str] = await el.evaluate("(e) => Array.from(e.options).map(o => o.textContent.trim())")
    values: list[str] = await el.evaluate("(e) => Array.from(e.options).map(o => o.value)")
    wanted = option.strip()
    for i, label in enumerate(labels):
        if label == wanted or values[i] == wanted:
            await el.select_option(index=i, timeout=timeout)
            return
    folded = wanted.casefold()
    for i, label in enumerate(labels):
        if label.casefold() == folded:
            await el.select_option(index=i, timeout=timeout)
            return
    raise ActionError(f"the list has no option {option!r}; its options are: {', '.join(labels[:20])}")
