"""The planning core end to end: real Chromium on local pages, real HTTP to a scripted LLM server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from llm_server import ChatRequest, Reply, ScriptedLLMServer, ServerError
from roles_script import IMAGINED, POLICY, SCORER, WORLD, by_content, element_id, script
from webserver import ASSETS, serve_directory

from envs import BrowserHost, Task
from webdreamer.agent import Agent
from webdreamer.config import AgentConfig
from webdreamer.models.config import ModelConfig
from webdreamer.models.ledger import Budget
from webdreamer.records import Trajectory


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    with serve_directory(ASSETS / "pages") as base:
        yield base


@pytest.fixture(scope="module")
async def host() -> AsyncIterator[BrowserHost]:
    async with BrowserHost() as h:
        yield h


def config(server: ScriptedLLMServer, **over: object) -> AgentConfig:
    cfg = AgentConfig(model=ModelConfig(model="scripted", base_url=server.url, api_key="k"))
    cfg.env.observation.screenshot = True
    cfg.max_steps = 6
    for key, value in over.items():
        section, _, field = key.partition("__")
        if field:
            setattr(getattr(cfg, section), field, value)
        else:
            setattr(cfg, key, value)
    return cfg


def kitchen_or_garden(req: ChatRequest) -> Reply:
    """12 samples for Kitchen, 7 for Garden, 1 garbage; once on the second page, stop."""
    if "Second page" in req.user:
        return Reply(texts=["In summary, the next action I will perform is ```stop [found it]```"])
    kitchen = element_id(req, "link", "Kitchen")
    garden = element_id(req, "link", "Garden tools")
    texts = [f"Let me go. In summary, the next action I will perform is ```click [{kitchen}]```"] * 12
    texts += [f"```click [{garden}]```"] * 7 + ["I cannot decide."]
    return Reply(texts=texts)


WORLD_BY_ACTION = by_content(
    {
        "ACTION: click the link 'Kitchen'": "State changes: the kitchen aisle opens, nothing about gardens.",
        "ACTION: click the link 'Garden tools'": "State changes: the garden tools page opens; the task is complete.",
    },
    "State changes: nothing happens.",
)
SCORE_BY_FUTURE = by_content(
    {
        "garden tools page opens": "Status: success\nOn track: yes\nThoughts: done.",
        "kitchen aisle opens": 'Status: "failure"\nOn the right track to success: "no"\nThoughts: wrong aisle.',
    },
    "Status: failure\nOn track: no",
)


async def test_world_model_and_scorer_overrule_the_policys_favourite(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str, tmp_path: Path
) -> None:
    script(llm_server, policy=kitchen_or_garden, world=WORLD_BY_ACTION, scorer=SCORE_BY_FUTURE)
    events: list[str] = []
    agent = Agent(config(llm_server), host=host, on_event=lambda e: events.append(e.kind))
    task = Task.adhoc("Open the garden tools page, then stop.", f"{pages}/index.html", id="garden")
    traj = await agent.arun(task, out_dir=tmp_path / "run")

    assert traj.status == "stopped" and traj.answer == "found it"
    first = traj.steps[0]
    d = first.decision
    assert [c.count for c in d.candidates] == [12, 7]
    assert [c.description for c in d.candidates] == [
        "click the link 'Kitchen'",
        "click the link 'Garden tools'",
    ]
    assert len(d.policy_failures) == 1 and "no action found" in d.policy_failures[0].reason
    assert d.refiner is not None and d.refiner.kept == [0, 1]
    assert len(d.rollouts) == 6 and all(r.error is None for r in d.rollouts)
    values = {v.candidate: v.value for v in d.values}
    assert values == {0: 0.0, 1: 1.0}
    assert d.chosen == 1 and "highest value 1.000" in d.reason
    assert first.action.startswith("click [") and first.executed
    assert first.outcome is not None and first.outcome.url.endswith("second.html?x=garden")
    assert (
        traj.steps[1].action == "stop [found it]"
        and traj.steps[1].decision.reason == "the policy proposed one action"
    )
    # Per-role usage is recorded, per step and per task.
    assert traj.usage is not None and traj.usage.roles["world_model"].calls == 6
    assert traj.usage.roles["scorer"].completions == 60  # 6 rollouts x 10 judge samples
    assert first.usage is not None and first.usage.roles["policy"].calls == 1
    assert events[0] == "start" and events[-1] == "end" and "decision" in events
    # The saved folder reloads to the same record and has a self-contained report.
    saved = Trajectory.load(tmp_path / "run")
    assert saved.model_dump() == traj.model_dump()
    assert saved.image(first.screenshot or "")[:4] == b"\x89PNG"
    report = (tmp_path / "run" / "report.html").read_text()
    assert (
        "garden tools page opens" in report and "data:image/png;base64," in report and "<script" not in report
    )


async def test_chains_run_concurrently(host: BrowserHost, pages: str) -> None:
    with ScriptedLLMServer(latency_s=0.3) as server:
        script(server, policy=kitchen_or_garden, world=WORLD_BY_ACTION, scorer=SCORE_BY_FUTURE)
        agent = Agent(config(server, max_steps=1), host=host)
        traj = await agent.arun(Task.adhoc("Open the garden tools page.", f"{pages}/index.html"))
    assert len(traj.steps[0].decision.rollouts) == 6
    # policy, refiner, then 6 world-model calls and 6 scorer calls: 14 in all. The six chains are in
    # flight together (speed itself is measured in bench/planning_step.py, not asserted here).
    assert len(server.chat_requests) == 14
    assert server.peak_in_flight >= 6
    world = [r for r in server.chat_requests if WORLD in r.chat.system]
    assert max(r.received for r in world) < min(
        r.finished or 0 for r in world
    )  # all started before any ended


async def test_unparseable_policy_ends_after_three_steps(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str
) -> None:
    script(llm_server, policy=Reply(texts=["I would like to click something."]))
    traj = await Agent(config(llm_server), host=host).arun(Task.adhoc("x", f"{pages}/index.html"))
    assert traj.status == "parse_failures" and len(traj.steps) == 3
    assert all(s.action == "none" and not s.executed for s in traj.steps)
    # n=20 samples, re-asked once (max_retry=1): every failure is kept with its reason.
    assert len(traj.steps[0].decision.policy_failures) == 40
    policy_requests = [r for r in llm_server.chat_requests if POLICY in r.chat.system]
    assert len(policy_requests) == 6


async def test_unreadable_verdicts_are_unknown_not_zero(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str
) -> None:
    script(
        llm_server,
        policy=kitchen_or_garden,
        world=WORLD_BY_ACTION,
        scorer="It looks rather unsuccessful to me.",
    )
    traj = await Agent(config(llm_server, max_steps=1), host=host).arun(
        Task.adhoc("x", f"{pages}/index.html")
    )
    d = traj.steps[0].decision
    assert all(v.value is None for v in d.values)  # never silently 0
    assert all(r.error == "no verdict of the scorer could be read" for r in d.rollouts)
    assert all(len(r.verdicts) == 10 and r.verdicts[0].error for r in d.rollouts)
    assert d.chosen == 0 and "fell back" in d.reason
    scorer_requests = [r for r in llm_server.chat_requests if SCORER in r.chat.system]
    assert len(scorer_requests) == 12  # each rollout asked twice (one retry)


async def test_world_model_retries_a_server_error(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str
) -> None:
    llm_server.when(system=WORLD, times=2).fault(ServerError())
    script(llm_server, policy=kitchen_or_garden, world=WORLD_BY_ACTION, scorer=SCORE_BY_FUTURE)
    traj = await Agent(config(llm_server, max_steps=1), host=host).arun(
        Task.adhoc("x", f"{pages}/index.html")
    )
    d = traj.steps[0].decision
    assert all(r.error is None for r in d.rollouts) and d.chosen == 1
    assert traj.usage is not None and traj.usage.roles["world_model"].retries == 2


async def test_budget_ends_the_episode_cleanly(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str
) -> None:
    script(llm_server, policy=kitchen_or_garden, world=WORLD_BY_ACTION, scorer=SCORE_BY_FUTURE)
    cfg = config(llm_server, budget=Budget(max_calls_per_step=4))
    traj = await Agent(cfg, host=host).arun(Task.adhoc("x", f"{pages}/index.html"))
    assert traj.status == "budget" and "max_calls_per_step" in traj.reason
    assert traj.usage is not None and traj.usage.total.refused >= 1
    assert traj.final_url.endswith("index.html")  # the record still says where the episode ended


async def test_repeated_action_and_veto(llm_server: ScriptedLLMServer, host: BrowserHost, pages: str) -> None:
    script(llm_server, policy="```scroll [down]```")
    traj = await Agent(config(llm_server, max_steps=10), host=host).arun(
        Task.adhoc("x", f"{pages}/index.html")
    )
    assert traj.status == "repeated_action" and len(traj.steps) == 4
    assert [s.executed for s in traj.steps] == [True, True, True, False]

    async def veto(action, obs):  # type: ignore[no-untyped-def]
        return "scrolling is not allowed here" if action.kind == "scroll" else True

    traj = await Agent(config(llm_server), host=host, confirm=veto).arun(
        Task.adhoc("x", f"{pages}/index.html")
    )
    assert traj.status == "vetoed" and traj.steps[0].vetoed == "scrolling is not allowed here"
    assert not traj.steps[0].executed


async def test_reactive_and_rerank_baselines(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str
) -> None:
    rerank = by_content(
        {"PROPOSED NEXT ACTION: click the link 'Garden tools'": "Status: success\nOn track: yes"},
        "Status: failure\nOn track: yes",
    )
    script(llm_server, policy=kitchen_or_garden, scorer=rerank)
    traj = await Agent(config(llm_server, max_steps=1, planner__mode="reactive"), host=host).arun(
        Task.adhoc("x", f"{pages}/index.html")
    )
    assert traj.steps[0].decision.chosen == 0 and traj.steps[0].decision.rollouts == []
    traj = await Agent(config(llm_server, max_steps=1, planner__mode="rerank"), host=host).arun(
        Task.adhoc("x", f"{pages}/index.html")
    )
    d = traj.steps[0].decision
    assert {v.candidate: v.value for v in d.values} == {0: 0.5, 1: 1.0} and d.chosen == 1
    assert not any(WORLD in r.chat.system for r in llm_server.chat_requests)


async def test_logprob_scorer_and_horizon_two(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str
) -> None:
    def letters(req: ChatRequest) -> Reply:
        good = "garden tools page opens" in req.user
        top = [("A", -0.1), ("B", -2.5), ("C", -4.0)] if good else [("C", -0.05), ("B", -3.0), ("A", -6.0)]
        return Reply(texts=["A" if good else "C"], logprobs=[[(top[0][0], top[0][1], top)]])

    imagined = by_content({"garden tools page opens": "stop [done]"}, "click the 'Pans' link")
    script(llm_server, policy=kitchen_or_garden, world=WORLD_BY_ACTION, logprob=letters, imagined=imagined)
    cfg = config(llm_server, max_steps=1, scorer__mode="logprob", world_model__horizon=2)
    traj = await Agent(cfg, host=host).arun(Task.adhoc("x", f"{pages}/index.html"))
    d = traj.steps[0].decision
    garden = [r for r in d.rollouts if r.candidate == 1]
    kitchen = [r for r in d.rollouts if r.candidate == 0]
    assert all(r.stopped_early and len(r.steps) == 1 for r in garden)  # stop checked before predicting
    assert all(len(r.steps) == 2 and r.steps[1].action == "click the 'Pans' link" for r in kitchen)
    assert all(r.verdicts[0].probs and r.verdicts[0].value > 0.9 for r in garden)
    assert all(r.value is not None and r.value < 0.1 for r in kitchen)
    assert d.chosen == 1
    world_calls = [r for r in llm_server.chat_requests if WORLD in r.chat.system]
    assert len(world_calls) == 3 + 3 * 2
    assert len([r for r in llm_server.chat_requests if IMAGINED in r.chat.system]) == 6
    assert all(r.chat.max_tokens == 1 for r in llm_server.chat_requests if "single letter" in r.chat.user)


async def test_cache_replay_gives_an_identical_trajectory(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str, tmp_path: Path
) -> None:
    script(llm_server, policy=kitchen_or_garden, world=WORLD_BY_ACTION, scorer=SCORE_BY_FUTURE)
    cache = str(tmp_path / "cache.sqlite")
    task = Task.adhoc("Open the garden tools page, then stop.", f"{pages}/index.html")
    first = await Agent(config(llm_server, cache__path=cache), host=host).arun(task)
    recorded = len(llm_server.chat_requests)
    llm_server.reset()  # no rules: any request that reaches the server now fails
    again = await Agent(config(llm_server, cache__path=cache, cache__mode="replay"), host=host).arun(task)
    assert len(llm_server.chat_requests) == 0 and recorded > 0
    assert again.status == first.status == "stopped"

    def essence(t: Trajectory) -> list[object]:
        out: list[object] = []
        for s in t.steps:
            d = s.decision.model_dump(exclude={"timings"})
            for r in d["rollouts"]:
                r.pop("seconds")  # wall time is the one thing a replay does not reproduce
            out.append((s.action, d, s.outcome))
        return out

    assert essence(again) == essence(first)
    assert again.usage is not None and again.usage.total.calls == 0 and again.usage.total.cache_hits > 0
    assert again.cost_usd == 0.0


async def test_prompts_show_public_names_and_gotos_map_back(
    llm_server: ScriptedLLMServer, host: BrowserHost, pages: str
) -> None:
    seen: list[str] = []

    def policy(req: ChatRequest) -> str:
        seen.append(req.user)
        if "Second page" in req.user:
            return "```stop [done]```"
        return "```goto [https://onestopmarket.com/second.html?via=map]```"

    script(llm_server, policy=policy)
    cfg = config(llm_server, url_map={pages: "http://onestopmarket.com"})
    traj = await Agent(cfg, host=host).arun(Task.adhoc("x", f"{pages}/index.html"))
    assert "URL: http://onestopmarket.com/index.html" in seen[0] and pages not in seen[0]
    first = traj.steps[0]
    assert first.outcome is not None and first.outcome.url == f"{pages}/second.html?via=map"
    assert first.description == "go to the URL http://onestopmarket.com/second.html?via=map"
    assert "onestopmarket.com/second.html" in seen[1] and traj.status == "stopped"
