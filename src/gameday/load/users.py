"""The Locust users: classes built per runtime, so no state is shared between engines.

`GamedayClosedUser` sends one request per task, `think_time_s` apart (closed model: the load is
the number of users). `GamedayOpenUser` is one per process and runs the open-model dispatcher
(the load is the arrival rate; concurrency is bounded by `max_in_flight`, not by users).
The class names are fixed: Locust's master and workers match users by class name.

Every record also goes to Locust's own `request` event, so Locust's statistics (and its
master's aggregation) see the same requests we record.
"""

from __future__ import annotations

from typing import Any

import gevent

from gameday.load._locust import StopUser, User, constant, task
from gameday.load.runtime import LoadRuntime

__all__ = ["user_classes"]


def _fire_locust_request(environment: Any) -> Any:
    def hook(fields: dict[str, Any]) -> None:
        error = fields.get("error")
        if error and fields.get("expected_4xx") and error == "http_4xx":
            error = None  # a malformed request refused with a 4xx is a success
        environment.events.request.fire(
            request_type="POST",
            name=fields["task"],
            response_time=(fields.get("e2e_s") or 0.0) * 1000,
            response_length=fields.get("out_tokens") or 0,
            exception=RuntimeError(error) if error else None,
            context={},
        )

    return hook


def user_classes(runtime: LoadRuntime | None, model: str, think_time_s: float = 0.0) -> list[type[User]]:
    """The user classes for one process; `runtime` is None on a master, which only dispatches."""

    class GamedayClosedUser(User):
        abstract = False
        wait_time = constant(think_time_s)

        def on_start(self) -> None:
            if runtime is not None and not runtime.on_record:
                runtime.on_record.append(_fire_locust_request(self.environment))

        @task
        def one_request(self) -> None:
            if runtime is None or not runtime.closed_step():
                gevent.sleep(0.05)  # closing: give the runner a moment, then leave
                raise StopUser()

    class GamedayOpenUser(User):
        abstract = False
        wait_time = constant(0)

        def on_start(self) -> None:
            if runtime is not None and not runtime.on_record:
                runtime.on_record.append(_fire_locust_request(self.environment))

        @task
        def dispatch(self) -> None:
            if runtime is not None:
                runtime.dispatch()
                # The schedule may end before the run does: stay idle (bounded) until the load closes.
                runtime.closing.wait(timeout=max(0.0, runtime.deadline - runtime.clock()))
            raise StopUser()

    return [GamedayOpenUser] if model == "open" else [GamedayClosedUser]
