"""Sandbox Intercom: a stateful in-memory stand-in for Intercom's REST API 2.14.

Usage in a test::

    state = seed_demo_workspace(IntercomState())
    base_url, stop = serve_in_thread(create_intercom_app(state, access_token="tok_sandbox"))
    client = AsyncIntercom(token="tok_sandbox", base_url=base_url)
"""

from .seed import seed_demo_workspace
from .server import create_intercom_app
from .state import IntercomState

__all__ = ["IntercomState", "create_intercom_app", "seed_demo_workspace"]
