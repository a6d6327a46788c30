"""Shared pytest fixtures (keep generic; role- and area-specific fixtures belong in their own test files)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llm_server import ScriptedLLMServer


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLMServer]:
    """A fresh scripted OpenAI-compatible server on 127.0.0.1 (see tests/llm_server.py); ``.url`` is its base URL.

    Endpoint memory (servers that ignore n, shared limits) is cleared first, since a new server may
    reuse an earlier one's port.
    """
    from webdreamer.models.stack import forget_endpoint_state

    forget_endpoint_state()
    with ScriptedLLMServer() as server:
        yield server
