"""The one door to Locust. Importing Locust monkey-patches the whole process with gevent.

Everything in `gameday.load` that needs Locust imports it from here, so the patching happens
once, early, and quietly: the runner has usually imported `ssl` (through `requests`) before the
load starts, which gevent warns about; its plain-HTTP loopback traffic is not affected.
"""

from __future__ import annotations

import warnings

from gevent.monkey import MonkeyPatchWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", MonkeyPatchWarning)
    import locust  # noqa: F401  (patches sockets, threads and time for gevent)

from locust import User, constant, task
from locust.env import Environment
from locust.event import Events
from locust.exception import StopUser
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

__all__ = [
    "Environment",
    "Events",
    "LocalRunner",
    "MasterRunner",
    "StopUser",
    "User",
    "WorkerRunner",
    "constant",
    "pass_quietly",
    "task",
]


def pass_quietly(*exceptions: type[BaseException]) -> None:
    """Let these exceptions leave a signal handler without the gevent hub printing a traceback.

    Once gevent has patched the process, signal handlers run in its hub; an exception they raise
    (the runner's `RunInterrupted` on Ctrl-C) still reaches the main greenlet, but the hub prints it
    first as if it were a crash.
    """
    import gevent

    hub = gevent.get_hub()
    hub.NOT_ERROR = (*hub.NOT_ERROR, *exceptions)
