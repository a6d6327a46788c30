"""The browser environment against real Chromium on real local pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from webserver import ASSETS, serve_directory

from envs import BrowserEnv, BrowserHost, EnvConfig, Kind, Observation, Task
from envs.actions import ActionSpace


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    with serve_directory(ASSETS / "pages") as base:
        yield base


@pytest.fixture(scope="module")
async def host() -> AsyncIterator[BrowserHost]:
    async with BrowserHost() as h:
        yield h


@pytest.fixture
async def env(host: BrowserHost) -> AsyncIterator[BrowserEnv]:
    e = BrowserEnv(EnvConfig(action_timeout_ms=1500), host=host)
    yield e
    await e.close()


def ids(obs: Observation) -> dict[str, int]:
    return {f"{e.role}:{e.name}": e.id for e in obs.elements}


async def test_observation_has_the_page_and_prunes_noise(env: BrowserEnv, pages: str) -> None:
    obs = await env.reset(Task.adhoc("look", f"{pages}/index.html"))
    assert obs.error is None
    assert obs.title == "Fixture home" and obs.url.endswith("/index.html")
    assert obs.tabs[0].active and len(obs.tabs) == 1
    assert obs.text.startswith("Tab 0 (current): Fixture home")
    e = ids(obs)
    for key in (
        "link:Kitchen",
        "link:Garden tools",
        "searchbox:Search products",
        "combobox:Sort by",
        "checkbox:Remember me",
        "button:Search",
        "button:Shadow button",
        "button:Frame button",
        "Iframe:Inner frame",
        "heading:Welcome",
    ):
        assert key in e, key
    assert "Invisible button" not in obs.text  # display:none is not part of the page
    assert "StaticText 'Price: $7.49 today'" in obs.text  # inline runs merge into one line
    assert obs.text.count("Search products") == 1  # the label is the searchbox's name, not a second line
    assert "option 'Price: low to high'" in obs.text
    frame_line = next(i for i, line in enumerate(obs.text.splitlines()) if "Iframe 'Inner frame'" in line)
    assert "Frame button" in obs.text.splitlines()[frame_line + 2]  # frame content nests under its iframe
    assert obs.screenshot is not None and obs.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    assert obs.element(e["button:Frame button"]).bbox[1] > 0  # frame offsets are applied
    assert "webdreamer" not in await env.page.content()  # ids live outside the DOM


async def test_ids_are_stable_across_steps_and_dom_changes(env: BrowserEnv, pages: str) -> None:
    obs = await env.reset(Task.adhoc("x", f"{pages}/dynamic.html"))
    before = ids(obs)
    obs2 = await env.step(f"click [{before['button:Insert at top']}]")
    after = ids(obs2)
    assert obs2.error is None
    for key in ("button:First", "button:Second", "button:Insert at top"):
        assert after[key] == before[key]
    assert after["button:Inserted"] not in before.values()
    obs3 = await env.observe()
    assert ids(obs3) == after


async def test_type_select_check_and_submit(env: BrowserEnv, pages: str) -> None:
    obs = await env.reset(Task.adhoc("x", f"{pages}/index.html"))
    e = ids(obs)
    obs = await env.step(f"type [{e['searchbox:Search products']}] [red mug] [0]")
    assert obs.error is None and "value: red mug" in obs.text
    obs = await env.step(f"type [{e['searchbox:Search products']}] [blue mug] [0]")
    assert "value: blue mug" in obs.text and "red mug" not in obs.text  # typing replaces the old text
    obs = await env.step(f"select [{e['combobox:Sort by']}] [price: LOW to high]")
    assert obs.error is None and "value: Price: low to high" in obs.text
    obs = await env.step(f"click [{e['checkbox:Remember me']}]")
    assert "checked: true" in obs.text
    obs = await env.step(f"type [{e['searchbox:Search products']}] [green mug] [1]")
    assert obs.error is None
    assert obs.title == "Second page" and "q=green+mug" in obs.url and "sort=price_asc" in obs.url


async def test_shadow_frame_hover_press_scroll(env: BrowserEnv, pages: str) -> None:
    obs = await env.reset(Task.adhoc("x", f"{pages}/index.html"))
    e = ids(obs)
    obs = await env.step("press [Meta+a]")  # Meta becomes Control off Mac, as in WebArena
    assert "Last key: a" in obs.text
    obs = await env.step(f"click [{e['button:Shadow button']}]")
    assert obs.error is None and "shadow clicked" in obs.text
    obs = await env.step(f"click [{e['button:Frame button']}]")
    assert obs.error is None and "frame clicked" in obs.text
    assert obs.focused == e["button:Frame button"]  # focus is followed into the frame
    obs = await env.step(f"hover [{e['button:Hover me']}]")
    assert "Hovered!" in obs.text
    assert obs.scroll[1] == 0
    obs = await env.step("scroll [down]")
    assert obs.scroll[1] >= obs.viewport[1] - 1
    obs = await env.step("scroll [up]")
    assert obs.scroll[1] == 0


async def test_tabs_popups_and_navigation(env: BrowserEnv, pages: str) -> None:
    obs = await env.reset(Task.adhoc("x", [f"{pages}/index.html", f"{pages}/second.html"]))
    assert [t.title for t in obs.tabs] == ["Fixture home", "Second page"] and obs.active_tab == 0
    e = ids(obs)
    obs = await env.step(f"click [{e['link:Open help']}]")
    assert len(obs.tabs) == 3 and obs.active_tab == 2 and obs.title == "Help page"  # popup becomes active
    obs = await env.step("tab_focus [1]")
    assert obs.title == "Second page"
    obs = await env.step("close_tab")
    assert len(obs.tabs) == 2 and obs.title == "Help page"
    obs = await env.step("new_tab")
    assert len(obs.tabs) == 3 and obs.url == "about:blank"
    obs = await env.step(f"goto [{pages}/second.html?from=goto]")
    assert obs.title == "Second page" and obs.url.endswith("from=goto")
    obs = await env.step(f"goto [{pages}/index.html]")
    obs = await env.step("go_back")
    assert obs.url.endswith("from=goto")
    obs = await env.step("go_forward")
    assert obs.title == "Fixture home"
    obs = await env.step("tab_focus [7]")
    assert obs.error and "no tab 7" in obs.error


async def test_errors_come_back_in_the_observation(env: BrowserEnv, pages: str) -> None:
    obs = await env.reset(Task.adhoc("x", f"{pages}/index.html"))
    e = ids(obs)
    obs = await env.step("click [99999]")
    assert obs.error and "no element with id [99999]" in obs.error
    obs = await env.step("dance [3]")
    assert obs.error and "unknown action 'dance'" in obs.error
    obs = await env.step(f"click [{e['button:Covered button']}]")  # another element sits on top
    assert obs.error and "timed out" in obs.error
    obs = await env.step(f"select [{e['link:Kitchen']}] [x]")
    assert obs.error and "drop-down" in obs.error
    obs = await env.step(f"select [{e['combobox:Sort by']}] [Cheapest]")
    assert obs.error and "Relevance" in obs.error  # the error lists the real options
    obs = await env.step("stop [done]")
    assert obs.error is None and obs.title == "Fixture home"


async def test_allowed_domains_and_local_schemes(host: BrowserHost, pages: str) -> None:
    env = BrowserEnv(EnvConfig(allowed_domains=["example.org"]), host=host)
    try:
        obs = await env.reset(Task.adhoc("x", f"{pages}/index.html"))
        assert obs.error and "not in the allowed list" in obs.error
        obs = await env.step("goto [file:///etc/passwd]")
        assert obs.error and "file:// URLs are not allowed" in obs.error
    finally:
        await env.close()
    env = BrowserEnv(EnvConfig(allowed_domains=["127.0.0.1"]), host=host)
    try:
        obs = await env.reset(Task.adhoc("x", f"{pages}/index.html"))
        assert obs.error is None
        e = ids(obs)
        obs = await env.step(f"click [{e['link:Kitchen']}]")
        assert obs.error is None and obs.title == "Second page"
        obs = await env.step("goto [http://blocked.invalid/]")
        assert obs.error and "blocked.invalid" in obs.error and obs.title == "Second page"
    finally:
        await env.close()


async def test_set_of_marks_and_budget(host: BrowserHost, pages: str) -> None:
    cfg = EnvConfig()
    cfg.observation.som = True
    cfg.observation.text.max_chars = 600
    env = BrowserEnv(cfg, host=host)
    try:
        obs = await env.reset(Task.adhoc("x", f"{pages}/index.html"))
        assert obs.som is not None and obs.som.image[:4] == b"\x89PNG"
        e = ids(obs)
        assert e["link:Kitchen"] in obs.som.ids
        assert f"[{e['link:Kitchen']}] [A] [Kitchen]" in obs.som.lines
        assert "[] [StaticText] [Welcome]" not in obs.som.lines  # headings are elements, not loose text
        assert "Bottom of the page" not in obs.som.lines  # below the fold: not marked
        assert await env.page.evaluate("document.getElementById('__webdreamer_som__')") is None
        assert obs.truncated and len(obs.text) <= 600
        assert "Bottom of the page" not in obs.text  # off-screen text goes first
    finally:
        await env.close()


async def test_element_refs_resolve_by_role_and_name(host: BrowserHost, pages: str) -> None:
    cfg = EnvConfig(actions=ActionSpace(allow_element_refs=True))
    env = BrowserEnv(cfg, host=host)
    try:
        obs = await env.reset(Task.adhoc("x", f"{pages}/index.html"))
        action = env.action_space.parse_action("click [link 'kitchen']")
        assert action.kind == Kind.CLICK and action.target is not None
        assert action.describe(obs) == "click the link 'Kitchen'"
        obs = await env.step(action)
        assert obs.title == "Second page"
        obs = await env.step("click [button 'No such button']")
        assert obs.error and "no button named 'No such button'" in obs.error
    finally:
        await env.close()


async def test_script_driven_controls_get_ids_by_their_pointer_cursor(env: BrowserEnv, pages: str) -> None:
    obs = await env.reset(Task.adhoc("x", f"{pages}/clickables.html"))
    e = ids(obs)
    assert "generic:magna." in e and obs.element(e["generic:magna."]).props.get("clickable") == "true"
    assert "generic:Card title $5" in e
    # A pointer list around real links adds nothing: the links are the controls.
    assert "link:File" in e and not any(k.startswith("generic:File") for k in e)
    line = next(line for line in obs.text.splitlines() if "link 'File'" in line)
    assert not line.startswith("\t")  # the dropped wrapper does not indent its children
    obs = await env.step(f"click [{e['generic:magna.']}]")
    assert obs.error is None and obs.title == "clicked magna"


def test_browser_discovery_order_and_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    from envs.browser import BROWSER_ENV_VAR, BrowserNotFound, find_browser, launch_args

    monkeypatch.setenv(BROWSER_ENV_VAR, "/no/such/chromium")
    with pytest.raises(BrowserNotFound, match="apt-get install -y chromium"):
        find_browser()
    assert find_browser("/bin/sh") == "/bin/sh"  # an explicit setting wins over the environment
    monkeypatch.delenv(BROWSER_ENV_VAR)
    found = find_browser()
    assert found is not None and "chromium" in found  # Debian's browser, not a download
    assert "--host-resolver-rules=MAP a.test 127.0.0.1" in launch_args({"a.test": "127.0.0.1"})
