"""webdreamer: web agents that think before they click (WebDreamer-style model-predictive planning).

from webdreamer import Agent, AgentConfig
traj = Agent(AgentConfig()).run("Find the cheapest mug", start_url="http://shop.test:7770")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webdreamer.agent import Agent
    from webdreamer.config import AgentConfig
    from webdreamer.models.config import ModelConfig
    from webdreamer.records import Trajectory

__all__ = ["Agent", "AgentConfig", "ModelConfig", "Trajectory"]
_WHERE = {
    "Agent": "webdreamer.agent",
    "AgentConfig": "webdreamer.config",
    "ModelConfig": "webdreamer.models.config",
    "Trajectory": "webdreamer.records",
}


def __getattr__(name: str) -> Any:
    """Lazy exports: `import webdreamer.models` must not pull in Playwright."""
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)
