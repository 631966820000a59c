"""A local Intercom: plays the inbox sidebar and the Messenger against our app, so every card can
be seen and clicked without an Intercom workspace (`make demo` prints its URL)."""

from .app import create_simulator_app
from .config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_simulator_app"]
