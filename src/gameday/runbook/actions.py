"""The manual actions a runbook offers, with exact commands for the reference gateway's admin API.

Paths are written once, in `GATEWAY_ADMIN`. `CONFIRMED` says whether they were checked against
`gameday.gateway`; while it is False the runbook says so next to every command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["CONFIRMED", "GATEWAY_ADMIN", "GATEWAY_URL", "Action", "actions_for", "admin_curl"]

GATEWAY_URL = "http://127.0.0.1:8080"
CONFIRMED = True  # checked against gameday.gateway.admin (tests/runbook drive these paths on a live gateway)
GATEWAY_ADMIN: dict[str, tuple[str, str]] = {
    # name -> (method, path template)
    "state": ("GET", "/admin/state"),
    "breakers": ("GET", "/admin/breakers"),
    "budget": ("GET", "/admin/budget"),
    "kill_switch": ("POST", "/admin/kill-switch"),
    "clear_kill_switch": ("DELETE", "/admin/kill-switch"),
    "route_override": ("POST", "/admin/routes/{route}/override"),
    "clear_route_override": ("DELETE", "/admin/routes/{route}/override"),
    "refresh_prices": ("POST", "/admin/prices/refresh"),
}

_PROVIDER_FAULTS = {"outage", "latency", "slow_stream", "http_errors"}


@dataclass(frozen=True)
class Action:
    title: str
    why: str
    command: str


def admin_curl(name: str, body: dict[str, object] | None = None, base_url: str = GATEWAY_URL, **params: str) -> str:
    method, template = GATEWAY_ADMIN[name]
    cmd = f'curl -sS -H "Authorization: Bearer $GAMEDAY_ADMIN_TOKEN" -X {method} {base_url}{template.format(**params)}'
    if body is not None:
        cmd += f" -H 'content-type: application/json' -d '{json.dumps(body, separators=(',', ':'))}'"
    return cmd


def actions_for(
    kind: str,
    target: str | None,
    routes: dict[str, list[str]],
    alternatives: dict[str, str],
    base_url: str = GATEWAY_URL,
) -> list[Action]:
    """Actions for one fault kind. `routes`: gateway route -> the workload classes it carried to the
    target in the baseline; `alternatives`: route -> a model on another provider that every one of
    those classes allows (the override that keeps them served and correct)."""
    out: list[Action] = []
    if kind in _PROVIDER_FAULTS and target:
        for route, model in alternatives.items():
            classes = ", ".join(routes.get(route, [])) or "its classes"
            out.append(
                Action(
                    f"Route override: route {route} serves only {model}",
                    f"when {target} keeps failing and the gateway keeps trying it; {model} is on another provider "
                    f"and allowed for {classes}",
                    admin_curl("route_override", {"model": model}, base_url=base_url, route=route),
                )
            )
        if not alternatives and routes:
            out.append(
                Action(
                    f"No safe override: no model on another provider is allowed for the routes {target} served",
                    "the gateway's 503 escalations are the intended behaviour; watch the breakers until the "
                    "provider is back",
                    admin_curl("breakers", base_url=base_url),
                )
            )
        if alternatives:
            out.append(
                Action(
                    "Undo once the provider is healthy again",
                    "drop the overrides, or traffic stays on the fallback (and its price)",
                    "\n".join(
                        admin_curl("clear_route_override", base_url=base_url, route=route) for route in alternatives
                    ),
                )
            )
    elif kind == "price_change":
        out.append(
            Action(
                "Price refresh: make the gateway re-read the providers' /pricing feeds",
                "when the gateway's cost claims drift from the bill, its budget decisions use stale prices",
                admin_curl("refresh_prices", base_url=base_url),
            )
        )
        out.append(
            Action(
                "Check the budget",
                "spent and reserved in the window against the ceiling, and how many requests it refused",
                admin_curl("budget", base_url=base_url),
            )
        )
    elif kind == "burst":
        out.append(
            Action(
                "Kill switch: every request to the policy's cheap baseline model",
                "the last resort when a surge threatens the spend ceiling or the providers' capacity; it serves "
                "every tier from one cheap model, so the high tier is downgraded while it is on",
                admin_curl("kill_switch", {}, base_url=base_url),
            )
        )
        out.append(
            Action(
                "Undo the kill switch",
                "as soon as the surge is over: the policy's routing comes back",
                admin_curl("clear_kill_switch", base_url=base_url),
            )
        )
    elif kind == "malformed":
        out.append(
            Action(
                "No switch to flip: malformed requests must be refused with a 4xx",
                "if any got a 5xx or a 2xx, file a bug with an example from requests.jsonl (expected_4xx: true)",
                "grep '\"expected_4xx\":true' requests.jsonl | grep -v '\"status\":4' | head",
            )
        )
    out.append(
        Action(
            "Inspect the gateway's own view (routes, breakers, budget)",
            "confirm what it believes before and after acting",
            admin_curl("state", base_url=base_url),
        )
    )
    return out
