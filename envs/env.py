"""The browser environment: reset(task) -> Observation, step(action) -> Observation, close().

One browser serves many episodes (a `BrowserHost`); each episode gets its own browser context,
so cookies, storage and tabs never leak between episodes that run side by side.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from playwright.async_api import Browser, ElementHandle, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError
from pydantic import BaseModel, Field

from envs.actions import Action, ActionParseError, ActionSpace, Kind
from envs.browser import launch_browser
from envs.execute import ActionError
from envs.extract import TextOptions, extract, render_text
from envs.observation import Observation, Tab
from envs.session import NavigationPolicy, Session
from envs.sitemap import SiteMap
from envs.som import render_som
from envs.tasks.model import Task


class ObservationConfig(BaseModel):
    text: TextOptions = Field(default_factory=TextOptions)
    screenshot: bool = True
    som: bool = False


class EnvConfig(BaseModel):
    browser_executable: str | None = None
    headless: bool = True
    viewport: dict[str, int] = Field(default_factory=lambda: {"width": 1280, "height": 720})
    allowed_domains: list[str] | None = None
    allow_local_schemes: bool = False  # file:// and chrome:// stay closed unless enabled
    action_timeout_ms: float = 5_000
    navigation_timeout_ms: float = 15_000
    settle_timeout_ms: float = 3_000  # how long to wait for `load` after an action
    effect_watch_ms: float = 100  # watch this long for a navigation or popup an action started ...
    submit_watch_ms: float = 400  # ... and this long after Enter, key presses and selects
    observation: ObservationConfig = Field(default_factory=ObservationConfig)
    actions: ActionSpace = Field(default_factory=ActionSpace)
    sites: SiteMap = Field(default_factory=SiteMap)
    locale: str = "en-US"
    timezone: str = "UTC"


class BrowserHost:
    """Playwright and one launched browser, shared by any number of environments."""

    def __init__(
        self, executable: str | None = None, headless: bool = True, host_map: dict[str, str] | None = None
    ):
        self.executable = executable
        self.headless = headless
        self.host_map = dict(host_map or {})
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()

    async def browser(self) -> Browser:
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                if self._pw is None:
                    self._pw = await async_playwright().start()
                self._browser = await launch_browser(
                    self._pw, executable=self.executable, headless=self.headless, host_map=self.host_map
                )
            return self._browser

    async def close(self) -> None:
        if self._browser is not None:
            try:
                await self._browser.close()
            except PlaywrightError:
                pass
            self._browser = None
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None

    async def __aenter__(self) -> BrowserHost:
        await self.browser()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class BrowserEnv:
    """A Gym-like browser environment over real Chromium (async)."""

    def __init__(self, config: EnvConfig | None = None, *, host: BrowserHost | None = None) -> None:
        self.config = config or EnvConfig()
        self._own_host = host is None
        self.host = host or BrowserHost(
            self.config.browser_executable, self.config.headless, host_map=self.config.sites.host_map
        )
        self.session: Session | None = None
        self.task: Task | None = None
        self.steps = 0

    @property
    def action_space(self) -> ActionSpace:
        return self.config.actions

    async def reset(self, task: Task | None = None, *, start_url: str | None = None) -> Observation:
        """Start a new episode: reset the task's sites if needed, open a fresh context and its tabs."""
        await self._close_session()
        if task is None:
            task = Task.adhoc("", start_url or "about:blank")
        self.task = task
        self.steps = 0
        cfg = self.config
        errors: list[str] = []
        if task.require_reset or cfg.sites.reset_always:
            errors += await cfg.sites.reset(task.sites)
        viewport = {**cfg.viewport, **(task.viewport or {})}
        browser = await self.host.browser()
        context = await browser.new_context(
            viewport={"width": viewport["width"], "height": viewport["height"]},
            device_scale_factor=1,
            locale=cfg.locale,
            timezone_id=cfg.timezone,
        )
        context.set_default_navigation_timeout(cfg.navigation_timeout_ms)
        cookies = cfg.sites.cookies_for(task.sites, task.login_sites())
        if cookies:
            await context.add_cookies(cookies)  # type: ignore[arg-type]
        self.session = Session(
            context, NavigationPolicy(cfg.allowed_domains, cfg.allow_local_schemes), cfg.action_timeout_ms
        )
        await self.session.install_guard()
        for url in task.start_urls or ["about:blank"]:
            page = await self.session.new_page()
            reason = self.session.policy.check(url)
            if reason:
                errors.append(reason)
                continue
            try:
                await page.goto(url, wait_until="load", timeout=cfg.navigation_timeout_ms)
            except PlaywrightError as exc:
                errors.append(f"could not open {url}: {str(exc).splitlines()[0]}")
        self.session.active = 0
        await self.session.page.bring_to_front()
        return await self.observe(error="; ".join(errors) or None)

    async def step(self, action: Action | str) -> Observation:
        """Run one action; a parse error or a failed action comes back in `observation.error`."""
        session = self._need_session()
        self.steps += 1
        if isinstance(action, str):
            try:
                action = self.action_space.parse_action(action)
            except ActionParseError as exc:
                return await self.observe(error=f"invalid action: {exc}")
        error: str | None = None
        before = len(session.pages)
        try:
            await self.action_space.execute(session, action)
        except ActionError as exc:
            error = str(exc)
        await self._await_effects(action, before)
        if len(session.pages) > before and action.kind != Kind.NEW_TAB:
            session.active = len(session.pages) - 1  # a popup becomes the active tab, as in WebArena
        await self._settle()
        if session.blocked:
            error = "; ".join(dict.fromkeys([*([error] if error else []), *session.blocked]))
            session.blocked.clear()
        error = error or self._scheme_violation()
        return await self.observe(error=error)

    def _scheme_violation(self) -> str | None:
        session = self._need_session()
        return session.policy.check(session.page.url) if session.page.url else None

    async def _await_effects(self, action: Action, tabs_before: int) -> None:
        """Give a navigation or popup the action started time to show up before we look.

        Playwright's click waits for the navigations it starts, but key presses (Enter submitting a
        form) and select-triggered submits do not, and under load their request can take a while to
        surface. So we watch for a while: briefly after most actions, longer after those.
        """
        session = self._need_session()
        slow = action.kind in (Kind.PRESS, Kind.SELECT) or (action.kind == Kind.TYPE and action.press_enter)
        window = self.config.submit_watch_ms if slow else self.config.effect_watch_ms
        deadline = asyncio.get_running_loop().time() + window / 1000
        while True:
            await asyncio.sleep(0.02)
            if session.tab().pending_nav is not None or len(session.pages) != tabs_before:
                return
            if asyncio.get_running_loop().time() >= deadline:
                return

    async def _settle(self) -> None:
        session = self._need_session()
        await session.wait_for_navigation(self.config.navigation_timeout_ms / 1000)
        page = session.page
        try:
            await page.wait_for_load_state("load", timeout=self.config.settle_timeout_ms)
        except PlaywrightError:
            pass  # slow resources must not fail the step; the observation shows what loaded

    async def observe(self, error: str | None = None) -> Observation:
        """The current state of the active tab (and the list of tabs)."""
        session = self._need_session()
        page = session.page
        opts = self.config.observation
        tab = session.tab()
        ext = None
        for attempt in range(3):
            try:
                ext = await extract(page, tab.next_id, opts.text)
                break
            except PlaywrightError as exc:  # navigation raced with the extraction: wait and retry
                if attempt == 2:
                    error = "; ".join(
                        filter(None, [error, f"the page could not be read: {str(exc).splitlines()[0]}"])
                    )
                    break
                await asyncio.sleep(0.2)
                try:
                    await page.wait_for_load_state("domcontentloaded", timeout=2_000)
                except PlaywrightError:
                    pass
        tabs = [
            Tab(index=i, url=p.url, title=await _title(p), active=i == session.active)
            for i, p in enumerate(session.pages)
        ]
        obs = Observation(
            url=page.url, title=tabs[session.active].title, tabs=tabs, active_tab=session.active, error=error
        )
        if ext is not None:
            tab.next_id = ext.next_id
            tab.id_frames.update(ext.id_frames)
            session.last = ext
            obs.text, obs.truncated = render_text(ext.nodes, obs.tabs_header(), opts.text)
            obs.elements = ext.elements
            obs.focused = ext.focused
            obs.viewport, obs.scroll, obs.page_size = ext.viewport, ext.scroll, ext.page_size
            if opts.som:
                obs.som = await render_som(page, ext)
        if opts.screenshot:
            try:
                obs.screenshot = await page.screenshot(type="png")
            except PlaywrightError:
                obs.screenshot = None
        return obs

    async def element(self, element_id: int) -> ElementHandle | None:
        """The live DOM element behind an id of the current tab (for evaluators that need it)."""
        from envs.execute import ActionError, element_handle

        try:
            return await element_handle(self._need_session(), element_id)
        except ActionError:
            return None

    @property
    def page(self) -> Page:
        """The active tab; evaluators read the final state from it."""
        return self._need_session().page

    def _need_session(self) -> Session:
        if self.session is None:
            raise RuntimeError("call reset() before step() or observe()")
        return self.session

    async def _close_session(self) -> None:
        if self.session is not None:
            try:
                await self.session.context.close()
            except PlaywrightError:
                pass
            self.session = None

    async def close(self) -> None:
        await self._close_session()
        if self._own_host:
            await self.host.close()

    async def __aenter__(self) -> BrowserEnv:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def _title(page: Page) -> str:
    try:
        return await asyncio.wait_for(page.title(), 2)
    except (PlaywrightError, TimeoutError):
        return ""
