"""Showing local site URLs under public-looking names in prompts, and mapping them back.

WebArena and VisualWebArena host their sites on local ports but show models public-looking
domains (`agent/prompts/prompt_constructor.py`, URL_MAPPINGS): observed URLs go local -> public,
and URLs in the model's actions go public -> local (`https` too).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from envs.sitemap import SiteMap

# Site name -> the public-looking base URL the original prompts use.
PUBLIC_NAMES: dict[str, str] = {
    "reddit": "http://reddit.com",
    "shopping": "http://onestopmarket.com",
    "shopping_admin": "http://luma.com/admin",
    "gitlab": "http://gitlab.com",
    "wikipedia": "http://wikipedia.org",
    "map": "http://openstreetmap.org",
    "homepage": "http://homepage.com",
    "classifieds": "http://classifieds.com",
}


class UrlMapper(BaseModel):
    pairs: dict[str, str] = Field(default_factory=dict)  # local base URL -> public base URL

    @classmethod
    def for_sites(cls, sites: SiteMap) -> UrlMapper:
        return cls(
            pairs={
                s.url.rstrip("/"): PUBLIC_NAMES[s.name]
                for s in sites.sites.values()
                if s.name in PUBLIC_NAMES
            }
        )

    def to_public(self, text: str) -> str:
        for local, public in sorted(self.pairs.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(local, public)
        return text

    def to_local(self, text: str) -> str:
        for local, public in sorted(self.pairs.items(), key=lambda kv: -len(kv[1])):
            text = text.replace(public, local).replace(public.replace("http://", "https://", 1), local)
        return text
