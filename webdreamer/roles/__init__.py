"""The planning roles, each a small class with its prompt files and its model."""

from webdreamer.roles.context import PastAction, StepContext
from webdreamer.roles.policy import Policy, Proposal
from webdreamer.roles.refiner import Refiner
from webdreamer.roles.scorer import Scorer
from webdreamer.roles.world_model import ImaginedPolicy, WorldModel

__all__ = [
    "ImaginedPolicy",
    "PastAction",
    "Policy",
    "Proposal",
    "Refiner",
    "Scorer",
    "StepContext",
    "WorldModel",
]
