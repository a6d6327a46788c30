"""One episode's browser state: its context, tabs, the active tab and the id bookkeeping."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Frame, Page, Request, Route

from envs.extract import Extraction


@dataclass
class TabState:
    next_id: int = 1
    id_frames: dict[int, Frame] = field(default_factory=dict)
    # A main-frame navigation that has been requested but not yet committed (keyboard-triggered
    # submits and script navigations are not awaited by Playwright's actions).
    pending_nav: Request | None = None
    committed: asyncio.Event = field(default_factory=asyncio.Event)


class NavigationPolicy:
    """Which URLs the agent may open: an allowed-domain list and the local schemes."""

    def __init__(self, allowed_domains: list[str] | None, allow_local_schemes: bool) -> None:
        self.allowed = [d.lower().lstrip(".") for d in allowed_domains] if allowed_domains else None
        self.allow_local_schemes = allow_local_schemes

    def check(self, url: str) -> str | None:
        """None if the URL may be opened, else the reason it may not."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in ("file", "chrome", "chrome-extension", "devtools", "view-source"):
            return None if self.allow_local_schemes else f"{scheme}:// URLs are not allowed ({url})"
        if scheme in ("about", "data", "blob", "javascript"):
            return None if scheme != "javascript" else "javascript: URLs are not allowed"
        if self.allowed is None:
            return None
        host = (parts.hostname or "").lower()
        if any(host == d or host.endswith("." + d) for d in self.allowed):
            return None
        return f"navigation to {host or url} was blocked: the domain is not in the allowed list"


class Session:
    """The live state of one episode. Owned by BrowserEnv; actions run against it."""

    def __init__(self, context: BrowserContext, policy: NavigationPolicy, action_timeout_ms: float) -> None:
        self.context = context
        self.policy = policy
        self.action_timeout_ms = action_timeout_ms
        self.pages: list[Page] = []
        self.active = 0
        self.tabs: dict[int, TabState] = {}  # keyed by id(page)
        self.blocked: list[str] = []  # navigation refusals since the last observation
        self.last: Extraction | None = None
        context.on("page", self._on_page)

    async def install_guard(self) -> None:
        """Refuse navigations to disallowed domains at the network level (covers clicks and scripts)."""
        if self.policy.allowed is None:
            return

        async def guard(route: Route, request: Request) -> None:
            reason = self.policy.check(request.url) if request.is_navigation_request() else None
            if reason:
                self.blocked.append(reason)
                await route.abort("blockedbyclient")
            else:
                await route.fallback()

        await self.context.route("**/*", guard)

    def _on_page(self, page: Page) -> None:
        if page not in self.pages:
            self.pages.append(page)
            page.on("close", self._on_close)
            state = self.tab(page)

            def on_request(request: Request) -> None:
                if request.is_navigation_request() and request.frame == page.main_frame:
                    state.pending_nav = request
                    state.committed.clear()

            def on_done(request: Request) -> None:
                if request is state.pending_nav and request.failure is not None:
                    state.pending_nav = None
                    state.committed.set()

            def on_navigated(frame: Frame) -> None:
                if frame == page.main_frame:
                    state.pending_nav = None
                    state.committed.set()

            page.on("request", on_request)
            page.on("requestfailed", on_done)
            page.on("framenavigated", on_navigated)

    async def wait_for_navigation(self, timeout_s: float) -> None:
        """If the action started a main-frame navigation, wait until the new document commits."""
        state = self.tab()
        if state.pending_nav is None:
            return
        try:
            await asyncio.wait_for(state.committed.wait(), timeout_s)
        except TimeoutError:
            state.pending_nav = None

    def _on_close(self, page: Page) -> None:
        if page in self.pages:
            idx = self.pages.index(page)
            self.pages.remove(page)
            self.tabs.pop(id(page), None)
            if self.active >= len(self.pages) or idx <= self.active:
                self.active = max(0, min(self.active - (1 if idx < self.active else 0), len(self.pages) - 1))

    @property
    def page(self) -> Page:
        if not self.pages:
            raise RuntimeError("the episode has no open tab")
        return self.pages[self.active]

    def tab(self, page: Page | None = None) -> TabState:
        page = page or self.page
        return self.tabs.setdefault(id(page), TabState())

    async def new_page(self) -> Page:
        page = await self.context.new_page()
        self._on_page(page)
        page.set_default_timeout(self.action_timeout_ms)
        return page

    def frame_of(self, element_id: int) -> Frame | None:
        return self.tab().id_frames.get(element_id)
