"""Mind2Web-Live scoring over an episode: a per-task tracker and the benchmark's metrics.

The episode runner calls `Mind2WebLiveTracker.evaluate` *before* each action, with the current
URL, the page HTML, the target element's CSS selector (or None) and the value (typed text, else
the element's text), as WebCanvas's `run_task` does (plan, evaluate, execute). So URL nodes see the
page the previous action reached, and the state after the final action is never scored [quirk].
Node scores are sticky (``max``), nodes at 1 are skipped, order is not enforced. An exception
while scoring a node aborts the rest of that step's nodes, as the original's try/except does.
Event-based evaluation (WebCanvas v0.0.4) is not reproduced: `step_evaluate` is the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from eval.evaluators import mind2web_live as m
from eval.evaluators.judges import semantic_match
from eval.evaluators.results import EvaluationError, JudgeRequiredError
from webdreamer.models.types import ChatModel

TaskMode = Literal["batch_tasks", "single_task"]
Status = Literal["finished", "llm_finished", "early_stop", "step_limit"]
_JUDGED = ("url_semantic_match", "element_value_semantic_match")


class KeyNode(BaseModel):
    """One reference key node, as `read_file` keeps it, plus its running score."""

    index: int
    match_function: str
    reference_answer: str
    key: str | None = None
    method: str | None = None
    netloc: str | None = None
    path: str | None = None
    score: float = 0.0


class LiveStepInput(BaseModel):
    """What the evaluation sees before an action (all of it is read from the page by the runner)."""

    url: str
    html: str = ""
    selector: str | None = None
    element_value: str | None = None
    text_content: str | None = None  # the text of a cache_data / get_final_answer action


class LiveStepRecord(BaseModel):
    """One step's evaluation: scores after it, what newly matched, and any abort."""

    step_index: int
    url: str
    selector: str | None
    element_value: str | None
    node_scores: list[float]
    total: float
    newly_matched: list[int] = Field(default_factory=list)
    error: str | None = None
    judge_replies: list[str] = Field(default_factory=list)


class LiveTaskResult(BaseModel):
    """The per-task outcome in WebCanvas's terms."""

    task_id: str
    status: Status
    steps: int
    score: float
    n_nodes: int
    node_scores: list[float]
    step_records: list[LiveStepRecord]
    skipped_nodes: list[str] = Field(default_factory=list)


def parse_key_nodes(evaluation: Sequence[Mapping[str, Any]]) -> tuple[list[KeyNode], list[str]]:
    """Read a task's ``evaluation`` list like WebCanvas's `read_file` (substring dispatch on the
    name). Nodes of an unknown family are dropped (they do not count in N); missing fields raise."""
    nodes: list[KeyNode] = []
    skipped: list[str] = []
    for i, raw in enumerate(evaluation):
        name = str(raw.get("match_function_name", ""))
        content = raw.get("content") or {}
        try:
            if "url" in name:
                nodes.append(
                    KeyNode(
                        index=i,
                        match_function=name,
                        key=content["key"],
                        reference_answer=content["reference_answer"],
                    )
                )
            elif "element_path" in name:
                nodes.append(
                    KeyNode(
                        index=i,
                        match_function=name,
                        method=raw["method"],
                        reference_answer=content["reference_answer"],
                        netloc=content["netloc"],
                    )
                )
            elif "element_value" in name:
                nodes.append(
                    KeyNode(
                        index=i,
                        match_function=name,
                        reference_answer=content["reference_answer"],
                        netloc=content["netloc"],
                        path=content.get("path"),
                    )
                )
            elif "final_answer" in name or "cache_data" in name:
                nodes.append(
                    KeyNode(index=i, match_function=name, reference_answer=content["reference_answer"])
                )
            else:
                skipped.append(f"node {i}: unknown match function {name!r}")
        except KeyError as exc:
            raise ValueError(f"key node {i} ({name}) lacks {exc}") from exc
    return nodes, skipped


class Mind2WebLiveTracker:
    """Scores one Mind2Web-Live task step by step and keeps WebCanvas's step budget.

    Budget (`run_task`): batch mode allows ``int(max(max_action_step, 1.5 * reference_length))``
    steps (single-task mode: the reference length), +``condition_step_increase`` once when a URL
    reached after an action contains "error", and stops after the step at index ``max_time_step``
    (25), when every node is at 1, or when the optional self-reward says finished.
    """

    def __init__(
        self,
        task: Mapping[str, Any],
        *,
        judge: ChatModel | None = None,
        task_mode: TaskMode = "batch_tasks",
        max_action_step: int = 10,
        condition_step_increase: int = 5,
        max_time_step: int = 25,
        url_conditions: Sequence[str] = ("error",),
        prompts: Path | None = None,
    ) -> None:
        self.task_id = str(task.get("index", task.get("task_id", "")))
        self.reference_length = int(task["reference_task_length"])
        self.nodes, self.skipped = parse_key_nodes(task["evaluation"])
        semantic = [n.index for n in self.nodes if n.match_function in _JUDGED]
        if semantic and judge is None:
            raise JudgeRequiredError(f"task {self.task_id}: semantic key nodes {semantic} need a judge model")
        self.judge = judge
        self.prompts = prompts
        if task_mode == "single_task":
            self.max_steps = self.reference_length
        else:
            self.max_steps = int(max(max_action_step, 1.5 * self.reference_length))
        self.additional_steps = 0
        self._increase = condition_step_increase
        self._max_time_step = max_time_step
        self._conditions = tuple(url_conditions)
        self._seen_conditions: set[str] = set()
        self.num_steps = 0
        self.records: list[LiveStepRecord] = []
        self.stopped = False
        self.llm_finished = False

    @property
    def total_score(self) -> float:
        return float(sum(n.score for n in self.nodes))

    @property
    def finished(self) -> bool:
        """Every key node matched (WebCanvas compares the sum with N)."""
        return self.total_score == len(self.nodes)

    def can_step(self) -> bool:
        """May the runner plan another action?"""
        return not self.stopped and self.num_steps < self.max_steps + self.additional_steps

    async def evaluate(self, step: LiveStepInput) -> LiveStepRecord:
        """Score the nodes against the state *before* the action about to run."""
        before = [n.score for n in self.nodes]
        record = LiveStepRecord(
            step_index=len(self.records),
            url=step.url,
            selector=step.selector,
            element_value=step.element_value,
            node_scores=[],
            total=0.0,
        )
        for node in self.nodes:
            if node.score == 1:
                continue
            try:
                score = await self._score(node, step, record)
            except Exception as exc:  # the original's try/except around the whole step
                record.error = f"node {node.index} ({node.match_function}): {type(exc).__name__}: {exc}"
                break
            node.score = max(node.score, float(score))
        record.node_scores = [n.score for n in self.nodes]
        record.total = self.total_score
        record.newly_matched = [
            n.index for n, old in zip(self.nodes, before, strict=True) if old < 1 <= n.score
        ]
        self.records.append(record)
        return record

    def record_action(self, url_after: str, *, self_reward_finished: bool = False) -> None:
        """Call after the action ran (one per evaluated step): budget extension and stop checks."""
        for word in self._conditions:
            if word in url_after and word not in self._seen_conditions:
                self.additional_steps += self._increase
                self._seen_conditions.add(word)
        self.llm_finished = self.llm_finished or self_reward_finished
        if self.num_steps >= self._max_time_step or self_reward_finished or self.finished:
            self.stopped = True
        self.num_steps += 1

    def record_no_action(self) -> None:
        """The planner produced nothing this iteration: the step counts, nothing is scored."""
        self.num_steps += 1

    def result(self, *, early_stop: bool = False) -> LiveTaskResult:
        """The task's status and scores (status precedence as in `run_task`)."""
        status: Status
        if self.finished:
            status = "finished"
        elif self.llm_finished:
            status = "llm_finished"
        elif early_stop:
            status = "early_stop"
        else:
            status = "step_limit"
        return LiveTaskResult(
            task_id=self.task_id,
            status=status,
            steps=len(self.records),
            score=self.total_score,
            n_nodes=len(self.nodes),
            node_scores=[n.score for n in self.nodes],
            step_records=list(self.records),
            skipped_nodes=list(self.skipped),
        )

    async def _semantic(self, text: str, rule: str, record: LiveStepRecord) -> float:
        verdict = await semantic_match(self.judge, text, rule, prompts=self.prompts)
        record.judge_replies.append(verdict.reply)
        return verdict.score

    async def _score(self, node: KeyNode, step: LiveStepInput, record: LiveStepRecord) -> float:
        name = node.match_function
        if name == "url_exactly_match":
            return m.url_exactly_match(step.url, node.reference_answer, node.key)
        if name == "url_included_match":
            return m.url_included_match(step.url, node.reference_answer, node.key)
        if name == "url_semantic_match":
            value = m.url_match_input(step.url, node.key, included=False)
            return 0.0 if value is None else await self._semantic(value, node.reference_answer, record)
        if name == "element_path_exactly_match":
            return m.path_exact_match(
                step.selector,
                node.reference_answer,
                node.method or "",
                step.html,
                m.get_netloc(step.url),
                node.netloc or "",
            )
        if name.startswith("element_value_") and name != "element_value_semantic_match":
            if step.selector is None or step.element_value is None:
                return 0.0
            if not self._path_ok(node, step):
                return 0.0
            rule = (
                m.element_value_exact_match
                if name == "element_value_exactly_match"
                else (m.element_value_included_match if name == "element_value_included_match" else None)
            )
            if rule is None:
                return 0.0
            return rule(step.element_value, node.reference_answer, m.get_netloc(step.url), node.netloc or "")
        if name == "element_value_semantic_match":
            if step.selector is None or step.element_value is None or not step.element_value:
                return 0.0
            if not self._path_ok(node, step):
                return 0.0
            if node.netloc != m.get_netloc(step.url):
                return 0.0
            return await self._semantic(step.element_value, node.reference_answer, record)
        if name.startswith(("cache_data_", "final_answer_")):
            text = step.text_content
            if not text:
                return 0.0
            if name.endswith("_exact_match"):
                return m.text_exact_match(text, node.reference_answer)
            if name.endswith("_included_match"):
                return m.text_included_match(text, node.reference_answer)
            if name.endswith("_semantic_match"):
                # The original passes an un-awaited coroutine to max(), which raises TypeError.
                raise EvaluationError("text semantic match is broken in WebCanvas (un-awaited coroutine)")
        return 0.0  # element_path_included_match and unknown names never score

    def _path_ok(self, node: KeyNode, step: LiveStepInput) -> bool:
        if node.path is None:
            return True
        score = m.path_exact_match(
            step.selector, node.path, "selector", step.html, m.get_netloc(step.url), node.netloc or ""
        )
        return score != 0


class LiveTaskOutcome(BaseModel):
    """What the metrics need from one task (`experiment_results.py: read_json_result`)."""

    status: str
    steps: int
    score: float
    n_nodes: int

    @classmethod
    def of(cls, result: LiveTaskResult) -> LiveTaskOutcome:
        return cls(status=result.status, steps=result.steps, score=result.score, n_nodes=result.n_nodes)


class LiveMetrics(BaseModel):
    """`experiment_results.py: evaluate`. Efficiency is steps per completed node: lower is better."""

    task_counts: int
    key_node_completion_rate: float  # Σ s_i / Σ N_i (micro)
    average_step_score_rate: float  # mean of s_i / N_i (macro)
    task_success_rate: float  # share with status "finished"
    average_efficiency_score: float  # mean of steps_i / s_i (0 when s_i = 0)
    usd_efficiency_score: float | None  # total cost / Σ s_i; None when no cost was given
    task_near_success_rate: float  # share with N_i - s_i == 1


def mind2web_live_metrics(
    outcomes: Sequence[LiveTaskOutcome | LiveTaskResult], total_cost_usd: float = 0.0
) -> LiveMetrics:
    """Aggregate per-task outcomes into the benchmark's reported numbers."""
    rows = [o if isinstance(o, LiveTaskOutcome) else LiveTaskOutcome.of(o) for o in outcomes]
    if not rows:
        raise ValueError("no tasks to aggregate")
    total_score = sum(r.score for r in rows)
    total_nodes = sum(r.n_nodes for r in rows)
    count = len(rows)
    usd = None
    if total_cost_usd != 0:
        usd = total_cost_usd / total_score if total_score else float("inf")
    return LiveMetrics(
        task_counts=count,
        key_node_completion_rate=total_score / total_nodes,
        average_step_score_rate=sum(r.score / r.n_nodes for r in rows) / count,
        task_success_rate=sum(r.status == "finished" for r in rows) / count,
        average_efficiency_score=sum((r.steps / r.score) if r.score != 0 else 0.0 for r in rows) / count,
        usd_efficiency_score=usd,
        task_near_success_rate=sum((r.n_nodes - r.score) == 1.0 for r in rows) / count,
    )
