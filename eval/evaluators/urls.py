"""``url_match`` as WebArena (`URLEvaluator`) and VisualWebArena (`URLExactEvaluator`) do it.

Pure functions of (spec, final page URL). The repos differ [quirk]:

* WA: only "GOLD in PRED" (its default; any other note raises). All trailing slashes are stripped
  from the whole URL (so a ``/`` just before ``?`` survives), the reference's netloc+path must be a
  substring of the page's, and the query keys of *all* ``|OR|`` alternatives are pooled: each key
  needs one of its pooled values among the page's values. An empty reference matches any page.
* VWA: "EXACT" by default (page URL among the alternatives) or "GOLD in PRED" (an alternative is a
  raw substring of the page URL, no query parsing). ``localhost`` becomes ``127.0.0.1`` anywhere
  in the URL and one trailing slash is dropped.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlparse

from eval.evaluators.results import Check, EvaluationError, EvaluatorResult, Profile

OR = " |OR| "
DEFAULT_URL_NOTE: dict[Profile, str] = {"webarena": "GOLD in PRED", "vwa": "EXACT"}


def _wa_clean(url: str) -> str:
    return str(url).rstrip("/")


def _wa_parse(url: str) -> tuple[str, dict[str, list[str]]]:
    parsed = urlparse(url)
    return parsed.netloc + parsed.path, parse_qs(parsed.query)


def wa_url_match(
    reference_url: str, page_url: str, url_note: Any = "GOLD in PRED"
) -> tuple[float, list[Check]]:
    """WebArena's rule; returns the score and the checks behind it."""
    if url_note != "GOLD in PRED":
        raise EvaluationError(f"Unknown matching rule: {url_note!r} (WebArena only has 'GOLD in PRED')")
    pred_base, pred_query = _wa_parse(_wa_clean(page_url))
    refs = [_wa_clean(u) for u in reference_url.split(OR)]
    ref_bases: list[str] = []
    pooled: dict[str, set[str]] = collections.defaultdict(set)
    for ref in refs:
        base, query = _wa_parse(ref)
        ref_bases.append(base)
        for key, values in query.items():
            pooled[key].update(values)
    base_score = float(any(base in pred_base for base in ref_bases))
    checks = [Check(rule="url base (GOLD in PRED)", expected=ref_bases, actual=pred_base, score=base_score)]
    score = base_score
    for key, wanted in pooled.items():
        got = pred_query.get(key, [])
        s = float(any(value in got for value in wanted))
        checks.append(
            Check(
                rule=f"url query {key!r}",
                expected=sorted(wanted),
                actual=got,
                score=s,
                note="query keys are pooled over all |OR| alternatives",
            )
        )
        score *= s
    return score, checks


def _vwa_clean(url: str) -> str:
    url = str(url).replace("localhost", "127.0.0.1")
    return url[:-1] if url.endswith("/") else url


def vwa_url_match(reference_url: str, page_url: str, url_note: Any = "EXACT") -> tuple[float, list[Check]]:
    """VisualWebArena's rule; returns the score and the checks behind it."""
    pred = _vwa_clean(page_url)
    refs = [_vwa_clean(u) for u in reference_url.split(OR)]
    if url_note == "EXACT":
        score = float(pred in refs)
    elif url_note == "GOLD in PRED":
        score = float(any(ref in pred for ref in refs))
    else:
        raise EvaluationError(f"Unknown matching rule: {url_note!r}")
    return score, [Check(rule=f"url {url_note}", expected=refs, actual=pred, score=score)]


def url_match(spec: Mapping[str, Any], page_url: str, profile: Profile) -> EvaluatorResult:
    """Score the final page URL against ``spec["reference_url"]`` (``spec`` is the task's ``eval``)."""
    result = EvaluatorResult(eval_type="url_match")
    try:
        if "reference_url" not in spec:
            raise EvaluationError("url_match needs eval.reference_url, which is missing")
        reference = spec["reference_url"]
        if not isinstance(reference, str):
            raise EvaluationError(f"reference_url must be a string, got {type(reference).__name__}")
        note = spec.get("url_note", DEFAULT_URL_NOTE[profile])
        match = wa_url_match if profile == "webarena" else vwa_url_match
        result.score, result.checks = match(reference, page_url, note)
    except EvaluationError as exc:
        result.error = str(exc)
    return result
