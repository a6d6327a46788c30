"""Where a benchmark's websites live, how to log in to them, and how to reset them.

The environment reads this at reset time: it POSTs the reset endpoints of the task's sites (as
VisualWebArena does for classifieds) and adds the login and instance cookies to the new context.
"""

from __future__ import annotations

import asyncio
import os
import urllib.parse
import urllib.request
from typing import Any

from pydantic import BaseModel, Field

# Placeholder -> site name, as the WA/VWA config files use them (benchmarks.md §1.3).
PLACEHOLDERS: dict[str, str] = {
    "__SHOPPING__": "shopping",
    "__SHOPPING_ADMIN__": "shopping_admin",
    "__REDDIT__": "reddit",
    "__GITLAB__": "gitlab",
    "__WIKIPEDIA__": "wikipedia",
    "__MAP__": "map",
    "__HOMEPAGE__": "homepage",
    "__CLASSIFIEDS__": "classifieds",
}
# The environment variables the original harnesses read (`browser_env/env_config.py`).
ENV_VARS: dict[str, str] = {
    "shopping": "SHOPPING",
    "shopping_admin": "SHOPPING_ADMIN",
    "reddit": "REDDIT",
    "gitlab": "GITLAB",
    "wikipedia": "WIKIPEDIA",
    "map": "MAP",
    "homepage": "HOMEPAGE",
    "classifieds": "CLASSIFIEDS",
}


class SiteInfo(BaseModel):
    name: str
    url: str  # the base URL the browser uses
    reset_url: str | None = None  # POSTed (from Python) before an episode that needs a reset
    reset_data: dict[str, str] = Field(default_factory=dict)
    login_cookies: list[dict[str, Any]] = Field(default_factory=list)  # Playwright cookie dicts
    cookies: list[dict[str, Any]] = Field(default_factory=list)  # always set (e.g. the data instance)


class SiteMap(BaseModel):
    sites: dict[str, SiteInfo] = Field(default_factory=dict)
    host_map: dict[str, str] = Field(default_factory=dict)  # host name -> address, for the browser
    reset_always: bool = False  # reset every site a task names, not only when it asks

    def placeholders(self) -> dict[str, str]:
        names = {v: k for k, v in PLACEHOLDERS.items()}
        return {names[s.name]: s.url.rstrip("/") for s in self.sites.values() if s.name in names}

    @classmethod
    def from_env(cls, overrides: dict[str, str] | None = None, prefix: str = "") -> SiteMap:
        """Site URLs from environment variables (SHOPPING=..., or WA_SHOPPING=... with a prefix), then overrides."""
        urls: dict[str, str] = {}
        for name, var in ENV_VARS.items():
            value = os.environ.get(prefix + var) or os.environ.get(var)
            if value:
                urls[name] = value
        urls.update(overrides or {})
        sites = {n: SiteInfo(name=n, url=u.rstrip("/")) for n, u in urls.items()}
        token = os.environ.get("CLASSIFIEDS_RESET_TOKEN")
        if "classifieds" in sites and token:
            c = sites["classifieds"]
            c.reset_url = f"{c.url}/index.php?page=reset"
            c.reset_data = {"token": token}
        return cls(sites=sites)

    def cookies_for(self, task_sites: list[str], login_sites: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for site in self.sites.values():
            out.extend(site.cookies)
            if site.name in login_sites:
                out.extend(site.login_cookies)
        return out

    async def reset(self, names: list[str]) -> list[str]:
        """POST the reset endpoint of each named site; returns the ones that failed, with why."""
        failures: list[str] = []
        for name in names:
            site = self.sites.get(name)
            if site is None or not site.reset_url:
                continue
            try:
                await asyncio.to_thread(_post, site.reset_url, site.reset_data)
            except Exception as exc:
                failures.append(f"{name}: reset failed ({exc})")
        return failures


def _post(url: str, data: dict[str, str]) -> None:
    body = urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
