"""Benchmark evaluators that score exactly as the benchmarks' own code does, quirks included.

* WebArena / VisualWebArena: `evaluate_wa_task` (profiles ``webarena`` and ``vwa``), built from
  `string_match`, `url_match`, `program_html` and `page_image_query`.
* Mind2Web-Live: `Mind2WebLiveTracker` (called before each action), `read_live_step`,
  `mind2web_live_metrics`.
* Online-Mind2Web: `webjudge`, `webjudge_folder`, `write_om2w_result`, `read_om2w_result`.

Judges are any `webdreamer.models.types.ChatModel`; prompts live in ``prompts/judges/``.
"""

from eval.evaluators.images import image_ssim, page_image_query
from eval.evaluators.mind2web_live import get_netloc
from eval.evaluators.mind2web_live_page import read_live_step
from eval.evaluators.mind2web_live_tracker import (
    LiveMetrics,
    LiveStepInput,
    LiveStepRecord,
    LiveTaskOutcome,
    LiveTaskResult,
    Mind2WebLiveTracker,
    mind2web_live_metrics,
)
from eval.evaluators.om2w_results import OM2WSubmission, read_om2w_result, write_om2w_result
from eval.evaluators.program_html import program_html
from eval.evaluators.results import (
    Check,
    EvalResult,
    EvaluationError,
    EvaluatorResult,
    JudgeReplyError,
    JudgeRequiredError,
    Profile,
)
from eval.evaluators.router import WAEvalOptions, evaluate_wa_task
from eval.evaluators.strings import clean_answer, string_match
from eval.evaluators.tokenize import word_tokenize
from eval.evaluators.urls import url_match
from eval.evaluators.webjudge import WebJudgeResult, success_rate, webjudge, webjudge_folder, webjudge_label

__all__ = [
    "Check",
    "EvalResult",
    "EvaluationError",
    "EvaluatorResult",
    "JudgeReplyError",
    "JudgeRequiredError",
    "LiveMetrics",
    "LiveStepInput",
    "LiveStepRecord",
    "LiveTaskOutcome",
    "LiveTaskResult",
    "Mind2WebLiveTracker",
    "OM2WSubmission",
    "Profile",
    "WAEvalOptions",
    "WebJudgeResult",
    "clean_answer",
    "evaluate_wa_task",
    "get_netloc",
    "image_ssim",
    "mind2web_live_metrics",
    "page_image_query",
    "program_html",
    "read_live_step",
    "read_om2w_result",
    "string_match",
    "success_rate",
    "url_match",
    "webjudge",
    "webjudge_folder",
    "webjudge_label",
    "word_tokenize",
    "write_om2w_result",
]
