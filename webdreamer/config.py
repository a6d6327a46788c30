"""The agent's configuration: one pydantic model, loadable from TOML/YAML, the environment and flags.

Every run saves the full config it ran with (method.md §9.3: one typed config instead of
contradictory defaults). Defaults follow the paper's setting where it states one (method.md §4).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from envs.env import EnvConfig
from webdreamer.models.config import ModelConfig
from webdreamer.models.ledger import Budget, Price

ENV_PREFIX = "WEBDREAMER__"


class RoleConfig(BaseModel):
    """What every role shares: its model (None: the agent's default) and sampling settings."""

    model: ModelConfig | None = None
    temperature: float | None = None  # None: the server's default
    top_p: float | None = None
    max_tokens: int | None = None
    vision: bool | None = None  # send screenshots; None: the agent-wide `vision` setting
    max_retry: int = 1  # re-asks after unparseable output, before recording the failure


class PolicyConfig(RoleConfig):
    samples: int = 20  # completions per step in one request (n)
    num_candidates: int = 5  # most frequent distinct actions kept
    temperature: float | None = 1.0
    top_p: float | None = 0.95
    max_tokens: int | None = 512
    history: int = 10  # previous actions shown (most recent)
    examples: bool = True  # include the worked example in the system prompt
    # Begin the model's reply with this text and let it continue (small local models stay on the
    # format this way). Needs a backend that continues a final assistant message (local, vLLM).
    answer_prefix: str | None = None


class RefinerConfig(RoleConfig):
    enabled: bool = True
    max_tokens: int | None = 512
    shuffle: bool = True  # the official demo shuffles candidates to reduce position bias
    skip_sim_if_single: bool = True  # one candidate left: execute it without simulation


class WorldModelConfig(RoleConfig):
    format: Literal["change", "accessibility", "html"] = "change"
    prompt_mode: Literal["standard", "dreamer"] = "standard"  # dreamer: Dreamer-7B's one-sentence prompt
    horizon: int = Field(default=1, ge=1)  # H: number of predicted transitions
    num_simulations: int = Field(default=3, ge=1)
    inputs: Literal["auto", "text", "screenshot", "both"] = "auto"  # auto: screenshot if vision, else text
    include_task: bool = False  # the paper's world model never sees the goal, URL or history
    include_url: bool = False
    include_history: bool = False
    max_tokens: int | None = 1024


class ImaginedPolicyConfig(RoleConfig):
    max_tokens: int | None = 128


class ScorerConfig(RoleConfig):
    mode: Literal["sampled", "logprob"] = "sampled"
    judge_samples: int = 10
    top_p: float | None = 1.0
    max_tokens: int | None = 512  # verdict first, so truncation cannot lose it
    top_logprobs: int = 10


class PlannerConfig(BaseModel):
    mode: Literal["webdreamer", "reactive", "rerank"] = "webdreamer"
    max_concurrency: int = Field(default=32, ge=1)  # model calls in flight within one step
    observation_chars: int = 12_000  # text observation budget inside prompts
    seed: int = 0


class CacheConfig(BaseModel):
    path: str | None = None  # SQLite file; None: no cache
    mode: Literal["off", "read_write", "read_only", "replay"] = "read_write"


class AgentConfig(BaseModel):
    model: ModelConfig | None = None  # default for every role; None: the embedded offline model
    vision: bool = False  # the models read images (screenshots, Set-of-Marks)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    refiner: RefinerConfig = Field(default_factory=RefinerConfig)
    world_model: WorldModelConfig = Field(default_factory=WorldModelConfig)
    imagined_policy: ImaginedPolicyConfig = Field(default_factory=ImaginedPolicyConfig)
    scorer: ScorerConfig = Field(default_factory=ScorerConfig)
    planner: PlannerConfig = Field(default_factory=PlannerConfig)
    max_steps: int = 30
    max_repeats: int = 3  # stop when the same action would run more than this many times in a row
    max_parse_failures: int = 3  # consecutive steps without a valid action
    budget: Budget = Field(default_factory=Budget)
    prices: dict[str, Price] = Field(default_factory=dict)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    env: EnvConfig = Field(default_factory=EnvConfig)
    # Local base URL -> public-looking name shown in prompts (WebArena's URL_MAPPINGS); the eval
    # runner fills it for webarena/vwa.
    url_map: dict[str, str] = Field(default_factory=dict)

    def role_model(self, role: str) -> ModelConfig | None:
        own = getattr(self, role).model if hasattr(self, role) else None
        return own or self.model

    def role_vision(self, role: RoleConfig) -> bool:
        return self.vision if role.vision is None else role.vision

    # ---- loading ----------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> AgentConfig:
        """File (TOML or YAML) < environment (WEBDREAMER__section__key=value) < explicit overrides."""
        data: dict[str, Any] = {}
        if path:
            data = read_config_file(Path(path))
        deep_merge(data, env_overrides())
        deep_merge(data, overrides or {})
        return cls.model_validate(data)

    def dump(self) -> dict[str, Any]:
        """The full config as recorded with every run (secrets excluded)."""
        return json.loads(self.model_dump_json())


def read_config_file(path: Path) -> dict[str, Any]:
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        data = yaml.safe_load(text) or {}
    elif path.suffix == ".json":
        data = json.loads(text)
    else:
        data = tomllib.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the config must be a mapping")
    return data


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """`WEBDREAMER__planner__mode=reactive` -> {"planner": {"mode": "reactive"}}; values parsed as JSON if they can be."""
    out: dict[str, Any] = {}
    for key, raw in (environ if environ is not None else os.environ).items():
        if not key.startswith(ENV_PREFIX):
            continue
        path = [p.lower() for p in key[len(ENV_PREFIX) :].split("__") if p]
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def embedded_profile(config: AgentConfig) -> AgentConfig:
    """Settings that let the tiny embedded CPU model finish an episode in minutes: fewer samples,
    shorter replies, one simulation per candidate and the one-token logprob scorer."""
    cfg = config.model_copy(deep=True)
    cfg.policy.samples, cfg.policy.num_candidates, cfg.policy.max_tokens = 6, 3, 24
    cfg.policy.answer_prefix = "In summary, the next action I will perform is ```"
    cfg.policy.temperature = 0.7
    cfg.refiner.enabled = False  # too small to follow the refiner's format; its failures would only cost time
    cfg.world_model.num_simulations, cfg.world_model.max_tokens = 1, 64
    cfg.imagined_policy.max_tokens = 32
    cfg.scorer.mode = "logprob"
    cfg.planner.observation_chars = 4_000
    cfg.max_steps = min(cfg.max_steps, 5)
    return cfg


def uses_embedded(config: AgentConfig) -> bool:
    roles = (config.policy, config.refiner, config.world_model, config.imagined_policy, config.scorer)
    return config.model is None and all(r.model is None for r in roles)
