"""Mind2Web-Live key-node match functions (`iMeanAI/WebCanvas`: `evaluate/step_score.py`,
`evaluate/evaluate_utils.py`), as pure functions of the step's inputs.

URL nodes read the page URL (or one query parameter's value: ``parse_qs`` decodes it once and
``unquote`` a second time; blank values count as missing). ``url_included_match`` without a key
looks at netloc + path (+ ``#fragment``) only, so the query string and a last-segment ``;params``
never match [quirk]. Element nodes first compare ``get_netloc`` of the page with the node's
``netloc``, then resolve the agent's selector and the reference on ``page.content()``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import lxml.html
from bs4 import BeautifulSoup

from eval.evaluators.results import EvaluationError

# Reference tags for which the agent's element may also be an ancestor (up to 3 levels) of it
# (`agent/Environment/html_env/utils.py: MapTagNameList`).
MAP_TAG_NAMES = ("span", "h1", "h2", "h3", "h4", "h5", "h6", "div", "li", "ul", "p")


def get_netloc(url: str) -> str:
    """WebCanvas's "domain name": the label after a leading ``www…`` label, else the first label.

    ``www.x.com`` gives ``x``, ``www2.x.com`` gives ``x``, ``wwwx.com`` gives "", ``WWW.X.com``
    gives ``WWW``, ``127.0.0.1:9980`` gives ``127``, ``localhost:7770`` gives "".

    This is the behaviour from *before* a late-2024 WebCanvas commit lost the ``urlparse`` import
    of ``evaluate_utils.py``; at the repository's head every call raises, so element nodes never
    score there. We implement the working version on purpose.
    """
    netloc = urlparse(url).netloc
    try:
        if netloc.startswith("www"):
            return str(re.findall(r".*?\.(.*?)\..*?", netloc)[0])
        return str(re.findall(r"(.*?)\..*?", netloc)[0])
    except IndexError:
        return ""


def query_value(url: str, key: str) -> str | None:
    """First value of query parameter ``key`` after two rounds of decoding; None if absent/blank."""
    try:
        return unquote(parse_qs(urlparse(url).query)[key][0])
    except (KeyError, IndexError, ValueError):
        return None


def url_match_input(url: str, key: str | None, *, included: bool) -> str | None:
    """What a URL node compares: the key's value, else the whole URL (exact/semantic) or
    netloc + path + ``#fragment`` (included); always ``unquote``d."""
    if key:
        return query_value(url, key)
    if not included:
        return unquote(url)
    try:
        parsed = urlparse(url)
        text = parsed.netloc + parsed.path
        if parsed.fragment:
            text += "#" + parsed.fragment
    except ValueError:  # an unparsable URL is compared whole, as in the original
        text = url
    return unquote(text)


def url_exactly_match(url: str, reference: str, key: str | None) -> float:
    """Case-sensitive equality of the node's input with ``reference``."""
    value = url_match_input(url, key, included=False)
    return 0.0 if value is None else float(value == reference)


def url_included_match(url: str, reference: str, key: str | None) -> float:
    """``reference`` is a substring of the node's input."""
    value = url_match_input(url, key, included=True)
    return 0.0 if value is None else float(reference in value)


class _Unbound:
    pass


_UNBOUND = _Unbound()


def _xpath_match(selector: Any, reference: str, html: str) -> float:
    # Mirrors the original's control flow: a failing parse/xpath leaves a variable unset and the
    # next line raises (an xpath matching nothing raises IndexError); the step's evaluation aborts.
    found: Any = _UNBOUND
    wanted: Any = _UNBOUND
    try:
        tree = lxml.html.fromstring(html)
        found = tree.xpath(selector)
        wanted = tree.xpath(reference)
    except Exception:
        pass
    if found is _UNBOUND or wanted is _UNBOUND:
        raise EvaluationError("xpath evaluation failed (the original then reads an unset variable)")
    try:
        score = float(found[0] is wanted[0])
    except (IndexError, TypeError, KeyError) as exc:
        raise EvaluationError(f"xpath matched nothing: {exc!r}") from exc
    try:
        if wanted[0].tag in MAP_TAG_NAMES:
            current = wanted[0]
            for _ in range(3):
                if score != 0:
                    break
                current = current.getparent()
                score = max(score, float(found[0] is current))
    except Exception:
        pass
    return score


def _selector_match(selector: Any, reference: str, html: str) -> float:
    score = 0.0
    try:
        soup = BeautifulSoup(html, "html.parser")
        found = soup.select_one(selector)
        wanted = soup.select_one(reference)
        if found is not None and wanted is not None:
            score = float(found is wanted)
            try:
                if wanted.name in MAP_TAG_NAMES:
                    current: Any = wanted
                    for _ in range(3):
                        if score != 0:
                            break
                        current = current.parent
                        score = max(score, float(found is current))
            except Exception:
                pass
    except Exception:
        score = 0.0
    return score


def path_exact_match(
    selector: str | None, reference: str, method: str, html: str, input_netloc: str, reference_netloc: str
) -> float:
    """Do the agent's selector and the reference pick the same node (or, for span/div/p/li/ul/h*
    references, is the agent's node one of its 3 nearest ancestors)? 0 on another site."""
    if method == "xpath":
        if reference_netloc != input_netloc:
            return 0.0
        return _xpath_match(selector, reference, html)
    if method == "selector":
        if reference_netloc != input_netloc:
            return 0.0
        return _selector_match(selector, reference, html)
    return 0.0


def element_value_exact_match(value: str, reference: str, input_netloc: str, reference_netloc: str) -> float:
    """Same site and the value equals ``reference`` (case-sensitive)."""
    if reference_netloc != input_netloc:
        return 0.0
    return float(value == reference)


def element_value_included_match(
    value: str, reference: str, input_netloc: str, reference_netloc: str
) -> float:
    """Same site and ``reference`` is a substring of the value."""
    if reference_netloc != input_netloc:
        return 0.0
    return float(reference in value)


def text_exact_match(text: str, reference: str) -> float:
    """``cache_data`` / ``final_answer`` exact rule (both lowercased)."""
    return float(text.lower() == reference.lower())


def text_included_match(text: str, reference: str) -> float:
    """``cache_data`` / ``final_answer`` included rule (both lowercased)."""
    return float(reference.lower() in text.lower())
