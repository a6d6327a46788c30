"""What the agent sees after each step, as one serialisable record."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Tab(BaseModel):
    index: int
    url: str
    title: str
    active: bool = False


class Element(BaseModel):
    """One element with an id: enough to describe it in words and to find it again."""

    id: int
    role: str
    name: str = ""
    tag: str = ""
    props: dict[str, str] = Field(default_factory=dict)
    # Page coordinates of the border box (x, y, width, height) in CSS pixels, relative to the viewport.
    bbox: tuple[int, int, int, int] | None = None
    interactive: bool = False
    in_viewport: bool = False
    frame: int = 0  # index into the tab's frame list at extraction time

    def label(self) -> str:
        """The element as a phrase: "the link 'Kitchen'"."""
        role = {"StaticText": "text", "Iframe": "frame", "generic": "element"}.get(self.role, self.role)
        return f"the {role} '{self.name}'" if self.name else f"the {role} [{self.id}]"


class SetOfMarks(BaseModel):
    """A Set-of-Marks view (VisualWebArena style): a screenshot with numbered boxes and their lines."""

    image: bytes
    lines: str
    ids: list[int] = Field(default_factory=list)


class Observation(BaseModel):
    url: str = ""
    title: str = ""
    tabs: list[Tab] = Field(default_factory=list)
    active_tab: int = 0
    text: str = ""
    elements: list[Element] = Field(default_factory=list)
    screenshot: bytes | None = None
    som: SetOfMarks | None = None
    focused: int | None = None
    error: str | None = None
    viewport: tuple[int, int] = (0, 0)
    scroll: tuple[int, int] = (0, 0)
    page_size: tuple[int, int] = (0, 0)
    truncated: bool = False

    def element(self, element_id: int) -> Element | None:
        for el in self.elements:
            if el.id == element_id:
                return el
        return None

    def find(self, role: str, name: str) -> Element | None:
        """The first element (document order) with this role and accessible name.

        Exact match first, then case- and space-insensitive; used to resolve reference
        solutions written as `click [link 'Kitchen']`.
        """
        for el in self.elements:
            if el.role == role and el.name == name:
                return el
        folded = " ".join(name.split()).casefold()
        for el in self.elements:
            if el.role == role and " ".join(el.name.split()).casefold() == folded:
                return el
        return None

    def tabs_header(self) -> str:
        parts = [f"Tab {t.index}{' (current)' if t.active else ''}: {t.title}" for t in self.tabs]
        return " | ".join(parts)
