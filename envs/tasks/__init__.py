"""Tasks and loaders for the benchmark formats."""

from envs.tasks.loaders import TaskFormatError, detect_format, load_many, load_tasks, substitute
from envs.tasks.model import Format, Task

__all__ = ["Format", "Task", "TaskFormatError", "detect_format", "load_many", "load_tasks", "substitute"]
