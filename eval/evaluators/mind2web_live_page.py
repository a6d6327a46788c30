"""Read a Mind2Web-Live step's inputs off a Playwright page, the way WebCanvas's agent side does.

WebCanvas builds the target's CSS selector from an lxml parse of ``page.content()``
(`agent/Environment/html_env/build_tree.py: HTMLTree.get_selector`): walking up from the element,
an ``id`` ends the path (``#id`` + the rest); otherwise a tag that is unique among its siblings is
written bare, else ``tag.class`` when no sibling has the same class string, else
``tag:nth-child(n)``, where n counts every child node lxml sees (comments too) [quirk]. The value is
the typed text for fills, otherwise the element's own text (lxml ``.text``) or, failing that, its
title / placeholder / aria-label / aria-checked, ``submit`` for submit buttons, a fixed phrase for
selects (`active_elements.py: get_element_value`), with newlines and tabs removed.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import lxml.etree
from playwright.async_api import ElementHandle, Locator, Page

from eval.evaluators.mind2web_live_tracker import LiveStepInput

MARK = "data-webdreamer-live-target"
_SPECIAL = "#.>+~[]():*^$|=%@!'"


def stringfy_selector(text: str) -> str:
    """WebCanvas's escaping of an id or class string for a CSS selector (spaces become dots)."""
    text = " ".join(text.replace("\t", " ").replace("\n", " ").strip().split())
    for char in _SPECIAL:
        text = text.replace(char, "\\" + char)
    text = ".".join(text.split(" "))
    if text[0].isdigit():
        text = f"\\{ord(text[0]):X}" + " " + text[1:]
    return text


def _find_marked(html: str, marker: str) -> Any:
    root = lxml.etree.parse(StringIO(html), lxml.etree.HTMLParser()).getroot()
    if root is None:
        return None
    for element in root.iter():
        if isinstance(element.tag, str) and element.get(marker) is not None:
            return element
    return None


def webcanvas_selector(element: Any) -> str | None:
    """The selector WebCanvas would write for an lxml element (None where it gives up)."""
    suffix = ""
    current = element
    try:
        while current.getparent() is not None:
            parent = current.getparent()
            element_id = current.get("id")
            if element_id:
                return "#" + stringfy_selector(element_id) + suffix
            siblings = list(parent)
            if len(siblings) > 1:
                own_class = current.get("class")
                unique_tag = all(s is current or s.tag != current.tag for s in siblings)
                unique_class = not any(
                    s is not current and own_class and _attr(s, "class") == own_class for s in siblings
                )
                if unique_tag:
                    suffix = f" > {current.tag}{suffix}"
                elif own_class and unique_class:
                    suffix = f" > {current.tag}.{stringfy_selector(own_class)}{suffix}"
                else:
                    position = siblings.index(current) + 1
                    suffix = f" > {current.tag}:nth-child({position}){suffix}"
            else:
                suffix = f" > {current.tag}{suffix}"
            current = parent
    except IndexError:  # an id or class of only spaces: WebCanvas cannot locate the element
        return None
    return f"{current.tag}{suffix}"


def _attr(node: Any, name: str) -> Any:
    return node.get(name) if isinstance(node.tag, str) else None


def webcanvas_element_value(element: Any) -> str:
    """The element text WebCanvas scores for clicks and selects."""
    value = element.text
    if not value:
        for attribute in ("title", "placeholder", "aria-label", "aria-checked"):
            value = element.get(attribute)
            if value:
                break
        else:
            if element.get("type") == "submit":
                value = "submit"
            elif element.tag == "select":
                value = "Select an option value"
            else:
                value = ""
    return str(value).replace("\n", "").replace("\t", "").strip()


async def read_live_step(
    page: Page,
    target: Locator | ElementHandle | None = None,
    *,
    typed_value: str | None = None,
    text_content: str | None = None,
) -> LiveStepInput:
    """Gather (URL, HTML, target selector, value) before an action; call it before executing.

    ``target`` is the element the action is about to act on (None for goto, go_back, scroll...).
    ``typed_value`` is the text a fill action types; WebCanvas scores clicks and selects by the
    element's own text instead, so leave it None for those. ``text_content`` is the text of a
    cache_data / get_final_answer action.
    """
    selector: str | None = None
    value = typed_value
    if target is not None:
        await target.evaluate("(el, name) => el.setAttribute(name, '')", MARK)
        try:
            marked = await page.content()
        finally:
            await target.evaluate("(el, name) => el.removeAttribute(name)", MARK)
        element = _find_marked(marked, MARK)
        if element is not None:
            selector = webcanvas_selector(element)
            if value is None:
                value = webcanvas_element_value(element)
    return LiveStepInput(
        url=page.url,
        html=await page.content(),
        selector=selector,
        element_value=value,
        text_content=text_content,
    )
