"""The world the agent lives in: a real browser, observations, the action vocabulary, tasks, sites.

This layer knows nothing of planning; it imports neither `webdreamer` nor `eval`.
"""

from envs.actions import Action, ActionParseError, ActionSpace, ElementRef, Kind
from envs.browser import BrowserNotFound, find_browser
from envs.env import BrowserEnv, BrowserHost, EnvConfig, ObservationConfig
from envs.execute import ActionError
from envs.extract import TextOptions
from envs.observation import Element, Observation, SetOfMarks, Tab
from envs.sitemap import SiteInfo, SiteMap
from envs.tasks import Task, TaskFormatError, load_tasks

__all__ = [
    "Action",
    "ActionError",
    "ActionParseError",
    "ActionSpace",
    "BrowserEnv",
    "BrowserHost",
    "BrowserNotFound",
    "Element",
    "ElementRef",
    "EnvConfig",
    "Kind",
    "Observation",
    "ObservationConfig",
    "SetOfMarks",
    "SiteInfo",
    "SiteMap",
    "Tab",
    "Task",
    "TaskFormatError",
    "TextOptions",
    "find_browser",
    "load_tasks",
]
