"""Loaders for the real benchmark task formats, with errors that name the file, task and field.

Formats (benchmarks.md): WebArena / VisualWebArena config files (`config_files/*.raw.json`,
one list of task dicts with `__PLACEHOLDER__` URLs), Mind2Web-Live task lists (WebCanvas
`data/example/*.json`) and Online-Mind2Web task lists (`Online_Mind2Web.json`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envs.sitemap import SiteMap
from envs.tasks.model import Format, Task

WA_EVAL_TYPES = {"string_match", "url_match", "program_html", "page_image_query"}
M2W_MATCH_FUNCTIONS = {
    "url_exactly_match",
    "url_included_match",
    "url_semantic_match",
    "element_path_exactly_match",
    "element_path_included_match",
    "element_value_exactly_match",
    "element_value_included_match",
    "element_value_semantic_match",
    "cache_data_exactly_match",
    "cache_data_included_match",
    "cache_data_semantic_match",
    "final_answer_exactly_match",
    "final_answer_included_match",
    "final_answer_semantic_match",
}
_PLACEHOLDER = re.compile(r"__[A-Z][A-Z_]*[A-Z]__")
_VWA_ONLY_KEYS = {"image", "reasoning_difficulty", "visual_difficulty", "overall_difficulty", "viewport_size"}


class TaskFormatError(ValueError):
    """A task file that cannot be used, with where and why."""

    def __init__(self, file: str, message: str, task: object = None, field: str | None = None) -> None:
        where = file
        if task is not None:
            where += f", task {task}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")
        self.file, self.task, self.field = file, task, field


def substitute(text: str, placeholders: Mapping[str, str]) -> str:
    """Plain text replacement over the whole file, as the original `generate_test_data.py` does."""
    for key, value in placeholders.items():
        text = text.replace(key, value.rstrip("/"))
    return text


def detect_format(data: Any, file: str = "<data>") -> Format:
    items = data if isinstance(data, list) else [data]
    if not items:
        raise TaskFormatError(file, "the file holds no tasks")
    first = items[0]
    if not isinstance(first, dict):
        raise TaskFormatError(file, f"expected task objects, found {type(first).__name__}", task=0)
    if "eval" in first and ("intent" in first or "task_id" in first):
        vwa = any(
            isinstance(t, dict) and (_VWA_ONLY_KEYS & t.keys() or "classifieds" in t.get("sites", []))
            for t in items
        )
        return "vwa" if vwa else "webarena"
    if "evaluation" in first and "task" in first:
        return "mind2web-live"
    if "confirmed_task" in first or ("task_description" in first and "website" in first):
        return "online-mind2web"
    raise TaskFormatError(
        file, "unknown task format (expected WebArena/VWA, Mind2Web-Live or Online-Mind2Web fields)", task=0
    )


def load_tasks(
    path: str | Path,
    *,
    sites: SiteMap | Mapping[str, str] | None = None,
    format: Format | None = None,
) -> list[Task]:
    """Load every task in a file, detecting its format; placeholders come from `sites` or the environment."""
    file = str(path)
    try:
        raw = Path(path).read_text()
    except OSError as exc:
        raise TaskFormatError(file, f"cannot read the file ({exc.strerror})") from exc
    if isinstance(sites, SiteMap):
        mapping = sites.placeholders()
    elif sites is not None:
        mapping = dict(sites)
    else:
        mapping = SiteMap.from_env().placeholders()
    try:
        data = json.loads(substitute(raw, mapping))
    except json.JSONDecodeError as exc:
        raise TaskFormatError(
            file, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    fmt = format or detect_format(data, file)
    items = data if isinstance(data, list) else [data]
    parse = {"webarena": _wa, "vwa": _wa, "mind2web-live": _m2w_live, "online-mind2web": _om2w}.get(fmt)
    if parse is None:
        raise TaskFormatError(file, f"unsupported format {fmt!r}")
    tasks = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise TaskFormatError(file, "a task must be a JSON object", task=i)
        task = parse(item, file, i, fmt)
        task.unresolved = sorted(set(_PLACEHOLDER.findall(json.dumps(item))))
        tasks.append(task)
    ids = [t.id for t in tasks]
    dupes = {x for x in ids if ids.count(x) > 1}
    if dupes:
        raise TaskFormatError(file, f"duplicate task ids: {sorted(dupes)[:5]}")
    return tasks


def load_many(paths: list[str | Path], **kw: Any) -> list[Task]:
    out: list[Task] = []
    for p in paths:
        out.extend(load_tasks(p, **kw))
    return out


def _need(item: dict[str, Any], key: str, types: type | tuple[type, ...], file: str, task: object) -> Any:
    if key not in item:
        raise TaskFormatError(file, "is missing", task=task, field=key)
    value = item[key]
    if not isinstance(value, types):
        names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        raise TaskFormatError(file, f"should be {names}, got {type(value).__name__}", task=task, field=key)
    return value


def _solution(item: dict[str, Any], file: str, task: object) -> list[str] | None:
    sol = item.get("reference_solution")
    if sol is None:
        return None
    if not isinstance(sol, list) or not all(isinstance(s, str) for s in sol):
        raise TaskFormatError(
            file, "should be a list of action strings", task=task, field="reference_solution"
        )
    return sol


def _wa(item: dict[str, Any], file: str, index: int, fmt: Format) -> Task:
    tid = item.get("task_id", index)
    task_id = _need(item, "task_id", (int, str), file, tid)
    intent = _need(item, "intent", str, file, tid)
    start = _need(item, "start_url", str, file, tid)
    ev = _need(item, "eval", dict, file, tid)
    types = _need(ev, "eval_types", list, file, tid)
    for t in types:
        if t not in WA_EVAL_TYPES:
            raise TaskFormatError(file, f"unknown evaluator {t!r}", task=tid, field="eval.eval_types")
    if "string_match" in types and not isinstance(ev.get("reference_answers"), dict):
        raise TaskFormatError(
            file, "string_match needs a reference_answers object", task=tid, field="eval.reference_answers"
        )
    if "url_match" in types and not isinstance(ev.get("reference_url"), str):
        raise TaskFormatError(
            file, "url_match needs a reference_url string", task=tid, field="eval.reference_url"
        )
    if "program_html" in types and not isinstance(ev.get("program_html"), list):
        raise TaskFormatError(
            file, "program_html needs a list of targets", task=tid, field="eval.program_html"
        )
    image = item.get("image")
    images = [image] if isinstance(image, str) else list(image or [])
    viewport = item.get("viewport_size")
    known = {
        "task_id",
        "intent",
        "start_url",
        "eval",
        "sites",
        "image",
        "viewport_size",
        "require_login",
        "storage_state",
        "require_reset",
        "overall_difficulty",
        "reference_solution",
    }
    return Task(
        id=str(task_id),
        intent=intent,
        start_urls=[u.strip() for u in start.split(" |AND| ") if u.strip()],
        sites=list(item.get("sites") or []),
        images=images,
        evaluation=ev,
        format=fmt,
        source=file,
        reference_solution=_solution(item, file, tid),
        viewport=viewport if isinstance(viewport, dict) else None,
        require_login=bool(item.get("require_login")),
        storage_state=item.get("storage_state"),
        require_reset=bool(item.get("require_reset")),
        difficulty=item.get("overall_difficulty"),
        metadata={k: v for k, v in item.items() if k not in known},
    )


def _m2w_live(item: dict[str, Any], file: str, index: int, fmt: Format) -> Task:
    tid = item.get("index", index)
    _need(item, "index", (int, str), file, tid)
    intent = _need(item, "task", str, file, tid)
    nodes = _need(item, "evaluation", list, file, tid)
    for k, node in enumerate(nodes):
        where = f"evaluation[{k}]"
        if not isinstance(node, dict):
            raise TaskFormatError(file, "a key node must be an object", task=tid, field=where)
        name = node.get("match_function_name")
        if name not in M2W_MATCH_FUNCTIONS:
            raise TaskFormatError(
                file, f"unknown match function {name!r}", task=tid, field=f"{where}.match_function_name"
            )
        if not isinstance(node.get("content"), dict) or "reference_answer" not in node["content"]:
            raise TaskFormatError(file, "needs content.reference_answer", task=tid, field=f"{where}.content")
    length = item.get("reference_task_length")
    known = {"index", "task", "evaluation", "reference_task_length", "reference_solution", "start_url"}
    start = item.get("start_url") or "about:blank"  # WebCanvas starts every task on about:blank
    return Task(
        id=str(tid),
        intent=intent,
        start_urls=[start],
        evaluation=nodes,
        format=fmt,
        source=file,
        reference_solution=_solution(item, file, tid),
        reference_length=int(length) if length is not None else None,
        metadata={k: v for k, v in item.items() if k not in known},
    )


def _om2w(item: dict[str, Any], file: str, index: int, fmt: Format) -> Task:
    tid = item.get("task_id", index)
    _need(item, "task_id", str, file, tid)
    intent = item.get("confirmed_task") or item.get("task_description")
    if not isinstance(intent, str):
        raise TaskFormatError(file, "is missing", task=tid, field="confirmed_task")
    website = _need(item, "website", str, file, tid)
    length = item.get("reference_length")
    known = {
        "task_id",
        "confirmed_task",
        "task_description",
        "website",
        "reference_length",
        "level",
        "reference_solution",
    }
    return Task(
        id=str(tid),
        intent=intent,
        start_urls=[website],
        evaluation=None,
        format=fmt,
        source=file,
        reference_solution=_solution(item, file, tid),
        difficulty=item.get("level"),
        reference_length=int(length) if length is not None else None,
        metadata={k: v for k, v in item.items() if k not in known},
    )
