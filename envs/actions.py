"""The action vocabulary: one object renders the grammar for prompts, parses model output, and
describes actions in words. Execution lives in `envs.execute` and is reached through
`ActionSpace.execute`, so every user goes through this one vocabulary.

The grammar is WebArena/VisualWebArena's id-based one (`*/browser_env/actions.py:
create_id_based_action`, prompts in `agent/prompts/raw/p_som_cot_id_actree_3s.py`) plus
`select [id] [option]` and `clear [id]`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from envs.observation import Element, Observation

if TYPE_CHECKING:
    from envs.session import Session


class ActionParseError(ValueError):
    """Model output that is not an action; the message says what was wrong."""


class Kind(StrEnum):
    CLICK = "click"
    TYPE = "type"
    HOVER = "hover"
    PRESS = "press"
    SCROLL = "scroll"
    SELECT = "select"
    CLEAR = "clear"
    NEW_TAB = "new_tab"
    TAB_FOCUS = "tab_focus"
    CLOSE_TAB = "close_tab"
    GOTO = "goto"
    GO_BACK = "go_back"
    GO_FORWARD = "go_forward"
    STOP = "stop"
    NONE = "none"  # the "no action" that an unparseable output becomes (WebArena's NONE)


ELEMENT_KINDS = {Kind.CLICK, Kind.TYPE, Kind.HOVER, Kind.SELECT, Kind.CLEAR}


class ElementRef(BaseModel):
    """An element named by role and accessible name instead of an id (reference solutions)."""

    model_config = ConfigDict(frozen=True)
    role: str
    name: str


class Action(BaseModel):
    """A parsed action. Immutable and hashable so that candidates can be counted and compared."""

    model_config = ConfigDict(frozen=True)
    kind: Kind
    element_id: int | None = None
    target: ElementRef | None = None
    text: str = ""  # typed text, key combination, option label, URL or answer
    press_enter: bool = False
    direction: str = ""  # scroll: up / down
    tab_index: int | None = None

    def canonical(self) -> str:
        """The exact string the grammar would print; equal actions have equal canonical forms."""
        ref = self._slot()
        match self.kind:
            case Kind.CLICK | Kind.HOVER | Kind.CLEAR:
                return f"{self.kind} [{ref}]"
            case Kind.TYPE:
                return f"type [{ref}] [{self.text}] [{1 if self.press_enter else 0}]"
            case Kind.SELECT:
                return f"select [{ref}] [{self.text}]"
            case Kind.PRESS | Kind.GOTO | Kind.STOP:
                return f"{self.kind} [{self.text}]"
            case Kind.SCROLL:
                return f"scroll [{self.direction}]"
            case Kind.TAB_FOCUS:
                return f"tab_focus [{self.tab_index}]"
            case _:
                return str(self.kind)

    def _slot(self) -> str:
        if self.element_id is not None:
            return str(self.element_id)
        if self.target is not None:
            return f"{self.target.role} {self.target.name!r}"
        return ""

    def describe(self, observation: Observation | None = None) -> str:
        """The action in words, from the element's role and name ("click the link 'Garden tools'").

        World models and scorers read this instead of opaque ids.
        """
        el = self._element(observation)
        what = (
            el.label() if el else (f"the element [{self.element_id}]" if self.element_id is not None else "")
        )
        match self.kind:
            case Kind.CLICK:
                return f"click {what}"
            case Kind.HOVER:
                return f"hover over {what}"
            case Kind.CLEAR:
                return f"clear {what}"
            case Kind.TYPE:
                enter = " and press Enter" if self.press_enter else ""
                return f"type {self.text!r} into {what}{enter}"
            case Kind.SELECT:
                return f"select the option {self.text!r} in {what}"
            case Kind.PRESS:
                return f"press the key combination {self.text}"
            case Kind.SCROLL:
                return f"scroll {self.direction} one screen"
            case Kind.NEW_TAB:
                return "open a new browser tab"
            case Kind.TAB_FOCUS:
                title = ""
                if observation and self.tab_index is not None and 0 <= self.tab_index < len(observation.tabs):
                    title = f" ({observation.tabs[self.tab_index].title!r})"
                return f"switch to tab {self.tab_index}{title}"
            case Kind.CLOSE_TAB:
                return "close the current tab"
            case Kind.GOTO:
                return f"go to the URL {self.text}"
            case Kind.GO_BACK:
                return "go back to the previous page"
            case Kind.GO_FORWARD:
                return "go forward to the next page"
            case Kind.STOP:
                return f"stop and answer {self.text!r}" if self.text else "stop (the task is done)"
            case _:
                return "do nothing (no valid action)"

    def _element(self, observation: Observation | None) -> Element | None:
        if observation is None:
            return None
        if self.element_id is not None:
            return observation.element(self.element_id)
        if self.target is not None:
            return observation.find(self.target.role, self.target.name)
        return None

    def equivalent(self, other: Action) -> bool:
        """WebArena's `is_equivalent`: same kind, and type is compared by element only."""
        if self.kind != other.kind:
            return False
        if self.kind == Kind.TYPE:
            return self._slot() == other._slot()
        return self.canonical() == other.canonical()


NONE_ACTION = Action(kind=Kind.NONE)

_FENCE = re.compile(r"```[ \t]*(?:[A-Za-z_-]+[ \t]*\n)?(.*?)```", re.S)
_SUMMARY = re.compile(r"(?:next action|action)\s+(?:i\s+will\s+(?:perform|take|do)\s+)?is\s*:?\s*(.+)", re.I)
_NAME = re.compile(r"\s*([A-Za-z_]+)\s*(.*)", re.S)
_REF = re.compile(r"""^\s*([A-Za-z]+)\s+(['"])(.*)\2\s*$""", re.S)
_ALIASES = {
    "goback": Kind.GO_BACK,
    "back": Kind.GO_BACK,
    "goforward": Kind.GO_FORWARD,
    "forward": Kind.GO_FORWARD,
    "newtab": Kind.NEW_TAB,
    "closetab": Kind.CLOSE_TAB,
    "tabfocus": Kind.TAB_FOCUS,
    "switch_tab": Kind.TAB_FOCUS,
    "fill": Kind.TYPE,
    "select_option": Kind.SELECT,
    "navigate": Kind.GOTO,
    "answer": Kind.STOP,
}


def extract_action_text(output: str) -> str:
    """Find the action inside a model's reply.

    The first fenced block wins (WebArena's CoT rule); then the "next action is ..." sentence;
    then the first line that starts with an action name.
    """
    m = _FENCE.search(output)
    if m and m.group(1).strip():
        return m.group(1).strip()
    m = _SUMMARY.search(output)
    if m:
        return m.group(1).strip().strip("`").strip().rstrip(".")
    names = {k.value for k in Kind} | set(_ALIASES)
    for line in output.splitlines():
        head = _NAME.match(line)
        if head and head.group(1).lower() in names:
            return line.strip().strip("`")
    raise ActionParseError(
        f"no action found in the reply (expected it in triple backticks): {output[:120]!r}"
    )


def _brackets(rest: str) -> list[str]:
    """Split `[a] [b c] [d]` into its bracket contents; the middle one may hold `]`."""
    rest = rest.strip()
    if not rest:
        return []
    if not rest.startswith("["):
        return [rest]
    parts: list[str] = []
    while rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise ActionParseError(f"unclosed bracket in {rest!r}")
        parts.append(rest[1:end])
        rest = rest[end + 1 :].lstrip()
    if rest:
        raise ActionParseError(f"unexpected text after the arguments: {rest!r}")
    return parts


class ActionSpace(BaseModel):
    """The one vocabulary. Configure it once; render, parse, describe and execute through it."""

    allow_tabs: bool = True
    allow_goto: bool = True
    allow_select: bool = True
    allow_element_refs: bool = False  # `click [link 'Kitchen']`, for reference solutions
    type_clears: bool = True  # WebArena appends to the field; clearing first is what agents expect
    mac_keys: bool = False  # keep Meta; otherwise Meta is mapped to Control as WebArena does

    # ---- rendering -------------------------------------------------------------------------
    def prompt_text(self) -> str:
        """The grammar as prompt text, written for a model that acts by element id."""
        lines = [
            "Page operations:",
            "click [id]: click the element with this id.",
            "type [id] [text] [press_enter_after=0|1]: type text into the field (its old content is replaced); "
            "press Enter afterwards unless the last argument is 0.",
            "hover [id]: move the mouse over the element.",
            "press [key_comb]: press a key combination, e.g. [Enter] or [Control+a].",
            "scroll [down] or scroll [up]: scroll the page by one screen.",
        ]
        if self.allow_select:
            lines.append(
                "select [id] [option]: choose the option with this visible text in a drop-down list."
            )
        if self.allow_tabs:
            lines += [
                "Tab operations:",
                "new_tab: open a new, empty tab.",
                "tab_focus [tab_index]: switch to the tab with this index.",
                "close_tab: close the current tab.",
            ]
        lines.append("Navigation:")
        if self.allow_goto:
            lines.append("goto [url]: open the URL.")
        lines += [
            "go_back: go to the previous page.",
            "go_forward: go to the next page (after go_back).",
            "Completion:",
            "stop [answer]: finish. Put the answer inside the brackets if the task asks for one, "
            "otherwise leave them empty: stop [].",
        ]
        return "\n".join(lines)

    # ---- parsing ---------------------------------------------------------------------------
    def parse(self, model_output: str) -> Action:
        """Extract and parse the action in a model's reply; raises ActionParseError."""
        return self.parse_action(extract_action_text(model_output))

    def parse_action(self, text: str) -> Action:
        """Parse one action string such as `type [12] [ceramic mug] [1]` (spacing and case tolerant)."""
        m = _NAME.match(text.strip())
        if not m:
            raise ActionParseError(f"not an action: {text!r}")
        raw_name = m.group(1).lower()
        kind = _ALIASES.get(raw_name) or _ALIASES.get(raw_name.replace("_", ""))
        if kind is None:
            try:
                kind = Kind(raw_name)
            except ValueError:
                raise ActionParseError(f"unknown action {m.group(1)!r} in {text!r}") from None
        if kind == Kind.NONE:
            raise ActionParseError("the model chose no action")
        self._check_allowed(kind)
        rest = m.group(2).strip()
        if kind in (Kind.STOP, Kind.GOTO, Kind.PRESS):
            return self._parse_greedy(kind, rest, text)
        if kind == Kind.TYPE:
            return self._parse_type(rest, text)
        args = _brackets(rest)
        match kind:
            case Kind.CLICK | Kind.HOVER | Kind.CLEAR:
                if len(args) != 1:
                    raise ActionParseError(f"{kind} takes one element id, as in `{kind} [12]`: {text!r}")
                eid, ref = self._element(args[0], text)
                return Action(kind=kind, element_id=eid, target=ref)
            case Kind.SELECT:
                if len(args) < 2:
                    raise ActionParseError(
                        f"select takes an element id and an option, as in `select [12] [Red]`: {text!r}"
                    )
                eid, ref = self._element(args[0], text)
                return Action(kind=kind, text="]".join(args[1:]).strip(), element_id=eid, target=ref)
            case Kind.SCROLL:
                direction = (args[0] if args else "").strip().lower()
                if direction not in ("up", "down"):
                    raise ActionParseError(f"scroll takes [up] or [down]: {text!r}")
                return Action(kind=kind, direction=direction)
            case Kind.TAB_FOCUS:
                if len(args) != 1 or not args[0].strip().isdigit():
                    raise ActionParseError(f"tab_focus takes a tab index, as in `tab_focus [1]`: {text!r}")
                return Action(kind=kind, tab_index=int(args[0]))
            case _:
                if args:
                    raise ActionParseError(f"{kind} takes no arguments: {text!r}")
                return Action(kind=kind)

    def _check_allowed(self, kind: Kind) -> None:
        if kind in (Kind.NEW_TAB, Kind.TAB_FOCUS, Kind.CLOSE_TAB) and not self.allow_tabs:
            raise ActionParseError(f"{kind} is not allowed here")
        if kind == Kind.GOTO and not self.allow_goto:
            raise ActionParseError("goto is not allowed here")
        if kind == Kind.SELECT and not self.allow_select:
            raise ActionParseError("select is not allowed here")

    def _element(self, slot: str, text: str) -> tuple[int | None, ElementRef | None]:
        s = slot.strip()
        if s.isdigit():
            return int(s), None
        if self.allow_element_refs:
            ref = _REF.match(s)
            if ref:
                return None, ElementRef(role=ref.group(1), name=ref.group(3))
        raise ActionParseError(f"expected a numeric element id, got [{s}] in {text!r}")

    def _parse_greedy(self, kind: Kind, rest: str, text: str) -> Action:
        if rest.startswith("[") and rest.endswith("]"):
            value = rest[1:-1]
        elif not rest:
            value = ""
        else:
            value = rest
        value = value.strip()
        if kind in (Kind.GOTO, Kind.PRESS) and not value:
            raise ActionParseError(f"{kind} needs an argument, as in `{kind} [...]`: {text!r}")
        if kind == Kind.PRESS and not self.mac_keys:
            value = re.sub(r"\bMeta\b", "Control", value)
        return Action(kind=kind, text=value)

    def _parse_type(self, rest: str, text: str) -> Action:
        body = rest.strip()
        if not re.search(r"\[\s*[01]\s*\]$", body):
            body += " [1]"  # WebArena appends Enter unless told otherwise
        m = re.match(r"^\[([^\]]*)\]\s*\[(.*)\]\s*\[\s*([01])\s*\]$", body, re.S)
        if not m:
            raise ActionParseError(f"type takes [id] [text] [0|1], as in `type [12] [hello] [1]`: {text!r}")
        eid, ref = self._element(m.group(1), text)
        return Action(
            kind=Kind.TYPE, text=m.group(2), press_enter=m.group(3) == "1", element_id=eid, target=ref
        )

    # ---- executing -------------------------------------------------------------------------
    async def execute(self, session: Session, action: Action) -> None:
        """Run the action in the browser; raises envs.execute.ActionError with a readable reason."""
        from envs.execute import execute

        await execute(session, action, self)
