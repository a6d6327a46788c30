"""Start the bundled sites in this process and tell a harness how to reach and reset them.

    with start_sites() as sites:
        sites.urls            # {"shop": "http://shop.test:7770", ...}   (public, for the browser)
        sites.internal_urls   # {"shop": "http://127.0.0.1:7770", ...}   (for urllib, health checks)
        sites.host_map        # {"shop.test": "127.0.0.1", ...}          (Chromium --host-resolver-rules)
        sites.placeholders    # {"__SHOPPING__": "http://shop.test:7770", "__REDDIT__": ..., "__CLASSIFIEDS__": ...}
        sites.login_cookies("shop")      # Playwright cookies: already logged in as alex
        sites.instance_cookies("3")      # Playwright cookies selecting data instance "3"
        sites.reset("3")                 # restore instance "3" of every site to its seed
        sites.benchmark_sites("3")       # per VWA site name: url, reset_url/reset_data, cookies

Seeded accounts (username / password): shop alex/alexpass, sam/sampass, jordan/jordanpass; forum
alex/alexpass, marge_g/margepass, tomato_tom/tompass, ...; classifieds alex/alexpass, rita/ritapass,
dev/devpass, .... The seeded session cookies (`SESSION_COOKIES`) log in as alex on each site;
they survive resets. Data instances are chosen with the `wd_instance` cookie (default "0").
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from . import classifieds, forum, shop
from .app import SiteApp
from .store import DEFAULT_INSTANCE, INSTANCE_COOKIE
from .web import SiteServer

SITE_NAMES: tuple[str, ...] = ("shop", "forum", "classifieds")
DEFAULT_PORTS: dict[str, int] = {"shop": 7770, "forum": 9999, "classifieds": 9980}
HOST_NAMES: dict[str, str] = {"shop": "shop.test", "forum": "forum.test", "classifieds": "classifieds.test"}
PLACEHOLDERS: dict[str, str] = {
    "shop": "__SHOPPING__",
    "forum": "__REDDIT__",
    "classifieds": "__CLASSIFIEDS__",
}
# VWA site names used in task files (`sites`, `storage_state`) for each bundled site.
BENCHMARK_NAMES: dict[str, str] = {"shop": "shopping", "forum": "reddit", "classifieds": "classifieds"}
SESSION_COOKIES: dict[str, tuple[str, str]] = {
    "shop": ("shop_session", shop.SEEDED_SESSION),
    "forum": ("forum_session", forum.SEEDED_SESSION),
    "classifieds": ("classifieds_session", classifieds.SEEDED_SESSION),
}
SEEDED_USER = "alex"
CLASSIFIEDS_RESET_TOKEN = classifieds.RESET_TOKEN
_FACTORIES = {"shop": shop.create_app, "forum": forum.create_app, "classifieds": classifieds.create_app}


def _cookie(name: str, value: str, domain: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "domain": domain,
        "path": "/",
        "httpOnly": True,
        "secure": False,
        "sameSite": "Lax",
    }


class RunningSites:
    """Servers started by `start_sites`; a context manager that stops them on exit."""

    def __init__(self, servers: Mapping[str, SiteServer]) -> None:
        self.servers: dict[str, SiteServer] = dict(servers)

    @property
    def names(self) -> list[str]:
        return list(self.servers)

    @property
    def ports(self) -> dict[str, int]:
        return {name: s.port for name, s in self.servers.items()}

    @property
    def urls(self) -> dict[str, str]:
        """Public URLs (need the host map in the browser), without a trailing slash."""
        return {name: f"http://{HOST_NAMES[name]}:{s.port}" for name, s in self.servers.items()}

    @property
    def internal_urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{s.port}" for name, s in self.servers.items()}

    @property
    def host_map(self) -> dict[str, str]:
        return {HOST_NAMES[name]: "127.0.0.1" for name in self.servers}

    @property
    def host_resolver_rules(self) -> str:
        """The value for Chromium's `--host-resolver-rules=` flag."""
        return ", ".join(f"MAP {host} {ip}" for host, ip in self.host_map.items())

    @property
    def placeholders(self) -> dict[str, str]:
        return {PLACEHOLDERS[name]: url for name, url in self.urls.items()}

    def app(self, site: str) -> SiteApp:
        app = self.servers[site].app
        assert isinstance(app, SiteApp)
        return app

    def _domain(self, site: str, internal: bool) -> str:
        if site not in self.servers:
            raise KeyError(f"site {site!r} is not running (running: {', '.join(self.servers)})")
        return "127.0.0.1" if internal else HOST_NAMES[site]

    def login_cookies(self, site: str, *, internal: bool = False) -> list[dict[str, Any]]:
        """Playwright cookie dicts that log the browser in as alex (like WebArena's storage_state)."""
        name, value = SESSION_COOKIES[site]
        return [_cookie(name, value, self._domain(site, internal))]

    def instance_cookies(
        self, instance: str = DEFAULT_INSTANCE, sites: Iterable[str] | None = None, *, internal: bool = False
    ) -> list[dict[str, Any]]:
        """Playwright cookie dicts that route the browser's requests to one data instance."""
        domains = {self._domain(site, internal) for site in (sites or self.servers)}
        return [_cookie(INSTANCE_COOKIE, instance, domain) for domain in sorted(domains)]

    def benchmark_sites(self, instance: str = DEFAULT_INSTANCE) -> dict[str, dict[str, Any]]:
        """Per benchmark site name ("shopping", "reddit", "classifieds"): what one episode needs.

        Each value has `name`, `url` (public), `reset_url` + `reset_data` (POST them to restore this
        instance), `login_cookies` (alex's seeded session) and `cookies` (selecting the instance).
        """
        return {
            BENCHMARK_NAMES[site]: {
                "name": BENCHMARK_NAMES[site],
                "url": self.urls[site],
                "reset_url": f"{self.internal_urls[site]}/__reset__",
                "reset_data": {"instance": instance},
                "login_cookies": self.login_cookies(site),
                "cookies": self.instance_cookies(instance, [site]),
            }
            for site in self.servers
        }

    def reset(self, instance: str = DEFAULT_INSTANCE, sites: Iterable[str] | None = None) -> None:
        """Restore one instance of the given sites (default: all running) to the seed, in process."""
        for site in sites or self.servers:
            self.app(site).reset(instance)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def __enter__(self) -> RunningSites:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_sites(
    names: Iterable[str] = SITE_NAMES,
    ports: Mapping[str, int] | None = None,
    fixed_ports: bool = False,
    *,
    quiet: bool = True,
) -> RunningSites:
    """Serve the named sites on 127.0.0.1 from daemon threads.

    Each site takes its port from `ports`, else its default (shop 7770, forum 9999, classifieds
    9980). A busy port falls back to a free one unless `fixed_ports` is set, in which case the
    OSError propagates (after stopping whatever was already started).
    """
    servers: dict[str, SiteServer] = {}
    try:
        for name in names:
            if name not in _FACTORIES:
                raise ValueError(f"unknown site {name!r}; choose from {', '.join(SITE_NAMES)}")
            app = _FACTORIES[name]()
            port = (ports or {}).get(name, DEFAULT_PORTS[name])
            try:
                server = SiteServer(app, port, quiet=quiet)
            except OSError:
                if fixed_ports or port == 0:
                    raise
                server = SiteServer(app, 0, quiet=quiet)
            servers[name] = server.start()
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return RunningSites(servers)


def reset_over_http(base_url: str, instance: str = DEFAULT_INSTANCE, timeout: float = 10.0) -> None:
    """Reset one instance of a site served elsewhere (another process), via `POST /__reset__`."""
    data = urllib.parse.urlencode({"instance": instance}).encode()
    request = urllib.request.Request(base_url.rstrip("/") + "/__reset__", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
