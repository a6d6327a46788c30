"""HTML building with escaping by default, plus the form widgets every site needs.

Every string becomes escaped text unless it is `Markup`, so seeded or user-written content can
never inject tags. Widgets always pair inputs with a real `<label for>`: agents address elements
by role and accessible name, and the label is that name.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

VOID_TAGS = frozenset({"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"})


class Markup(str):
    """A string of trusted HTML, inserted as is."""

    __slots__ = ()


def esc(value: object) -> Markup:
    """Escape text for HTML (Markup passes through unchanged)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def frag(*children: object) -> Markup:
    """Concatenate children, escaping text and flattening lists; None and False vanish."""
    out: list[str] = []
    stack: list[object] = list(reversed(children))
    while stack:
        child = stack.pop()
        if child is None or child is False or child is True:
            continue
        if isinstance(child, str | int | float):
            out.append(esc(child))
        elif isinstance(child, Iterable):
            stack.extend(reversed(list(child)))
        else:
            out.append(esc(child))
    return Markup("".join(out))


def _attr_name(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


def el(tag: str, *children: object, **attrs: object) -> Markup:
    """One element; `class_="x"`, `for_="id"`, `aria_label="..."`; True gives a bare attribute."""
    parts = [tag]
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(_attr_name(name))
        else:
            parts.append(f'{_attr_name(name)}="{esc(value)}"')
    opening = "<" + " ".join(parts) + ">"
    if tag in VOID_TAGS:
        return Markup(opening)
    return Markup(f"{opening}{frag(*children)}</{tag}>")


def hidden(name: str, value: object) -> Markup:
    return el("input", type="hidden", name=name, value=value)


def field_input(
    field_id: str,
    label: str,
    name: str | None = None,
    value: object = "",
    *,
    kind: str = "text",
    **attrs: object,
) -> Markup:
    """A labelled input inside a `.field` wrapper."""
    return el(
        "div",
        el("label", label, for_=field_id),
        el("input", id=field_id, name=name or field_id, type=kind, value=value, **attrs),
        class_="field",
    )


def field_textarea(
    field_id: str, label: str, name: str | None = None, value: object = "", **attrs: object
) -> Markup:
    return el(
        "div",
        el("label", label, for_=field_id),
        el("textarea", value, id=field_id, name=name or field_id, rows=attrs.pop("rows", 5), **attrs),
        class_="field",
    )


def field_select(
    field_id: str,
    label: str,
    options: Sequence[tuple[object, str]],
    selected: object = "",
    name: str | None = None,
    **attrs: object,
) -> Markup:
    """A labelled `<select>`; options are (value, visible text) pairs."""
    opts = [el("option", text, value=value, selected=str(value) == str(selected)) for value, text in options]
    return el(
        "div",
        el("label", label, for_=field_id),
        el("select", opts, id=field_id, name=name or field_id, **attrs),
        class_="field",
    )


def search_form(
    label: str,
    *,
    placeholder: str,
    name: str,
    value: str,
    action: str,
    input_id: str = "search-q",
    extra: Markup | None = None,
) -> Markup:
    """The header search box every site has: a labelled search input and a submit button."""
    return el(
        "form",
        extra or "",
        el("label", label, for_=input_id, class_="sr-only"),
        el("input", type="search", id=input_id, name=name, value=value, placeholder=placeholder),
        el("button", "Search", type="submit"),
        role="search",
        method="get",
        action=action,
        class_="search",
    )


def post_button(
    action: str, label: object, fields: dict[str, object] | None = None, **attrs: object
) -> Markup:
    """A one-button form that POSTs (logout, votes, remove from cart...)."""
    inputs = [hidden(k, v) for k, v in (fields or {}).items()]
    form_class = attrs.pop("form_class", "inline")
    return el(
        "form",
        inputs,
        el("button", label, type="submit", **attrs),
        method="post",
        action=action,
        class_=form_class,
    )


def stars(rating: float) -> Markup:
    """A rating shown as stars with its number in words for screen readers."""
    full = min(5, int(rating + 0.5))
    return el(
        "span",
        "★" * full + "☆" * (5 - full),
        class_="stars",
        role="img",
        aria_label=f"Rated {rating:.1f} out of 5",
    )


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"


def money(amount: float) -> str:
    return f"${amount:,.2f}"


BASE_CSS = """
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#222;background:#f6f6f4}a{color:var(--accent)}main{max-width:1080px;margin:0 auto;padding:16px 20px 40px}
.topbar{background:var(--accent);color:#fff}.topbar .inner{max-width:1080px;margin:0 auto;padding:10px 20px;
display:flex;gap:18px;align-items:center;flex-wrap:wrap}.topbar a{color:#fff;text-decoration:none}
.brand{font-weight:700;font-size:20px}.topbar nav{display:flex;gap:14px;align-items:center;flex-wrap:wrap}
.topbar form.search{display:flex;gap:6px;flex:1;min-width:220px}.topbar input[type=search]{flex:1;padding:6px 8px;
border:0;border-radius:4px}.topbar .spacer{flex:1}
button,.button{background:var(--accent);color:#fff;border:0;border-radius:4px;padding:6px 12px;cursor:pointer;
font:inherit;text-decoration:none;display:inline-block}.topbar button{background:#fff;color:var(--accent)}
button.secondary{background:#e4e4e0;color:#222}form.inline{display:inline}
.field{margin:0 0 12px;display:flex;flex-direction:column;gap:4px;max-width:520px}
.field input,.field select,.field textarea{padding:7px 8px;border:1px solid #bbb;border-radius:4px;font:inherit}
.field input[type=number]{max-width:160px}
.flash{background:#fff6cc;border:1px solid #e6d27a;padding:8px 12px;border-radius:4px;margin:0 0 14px}
.error{background:#fde2e1;border-color:#e39a96}.muted{color:#666}.card{background:#fff;border:1px solid #ddd;
border-radius:6px;padding:12px}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:14px;
list-style:none;padding:0}.stars{color:#d69a00;letter-spacing:1px}table{border-collapse:collapse;width:100%;
background:#fff}th,td{border-bottom:1px solid #ddd;padding:7px 9px;text-align:left}footer{color:#777;
text-align:center;padding:20px;font-size:13px}.price{font-weight:700}ul.plain{list-style:none;padding:0}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
"""


def document(
    title: str, *, header: Markup, body: Markup, accent: str, extra_css: str = "", flash: str | None = None
) -> Markup:
    """A full page: head with CSS, the site's header, an optional flash message, the main content."""
    notice = el("div", flash, class_="flash", role="status") if flash else None
    return Markup(
        "<!DOCTYPE html>\n"
        + el(
            "html",
            el(
                "head",
                el("meta", charset="utf-8"),
                el("meta", name="viewport", content="width=device-width, initial-scale=1"),
                el("title", title),
                el("style", Markup(f":root{{--accent:{accent}}}" + BASE_CSS + extra_css)),
            ),
            el(
                "body", header, el("main", notice, body, id="main"), el("footer", "Demo site for web agents.")
            ),
            lang="en",
        )
    )
