"""The bundled sites as a SiteMap: the bridge between `envs.sites` (plain web apps that know
nothing of us) and the environment's reset and login handling."""

from __future__ import annotations

from envs.sitemap import SiteInfo, SiteMap
from envs.sites.launcher import RunningSites
from envs.sites.tasks import LOCAL_MIND2WEB_LIVE as LOCAL_M2W_LIVE_TASKS
from envs.sites.tasks import LOCAL_VWA as LOCAL_VWA_TASKS

__all__ = ["LOCAL_M2W_LIVE_TASKS", "LOCAL_VWA_TASKS", "bundled_site_map"]


def bundled_site_map(sites: RunningSites, instance: str = "0") -> SiteMap:
    """Every episode resets its sites' data instance first; cookies pick the instance and log in."""
    infos = {name: SiteInfo(**info) for name, info in sites.benchmark_sites(instance).items()}
    return SiteMap(sites=infos, host_map=sites.host_map, reset_always=True)
