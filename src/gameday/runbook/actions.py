"""The manual actions a runbook offers, with exact commands for the reference gateway's admin API.

Paths are written once, in `GATEWAY_ADMIN`. `CONFIRMED` says whether they were checked against
`gameday.gateway`; while it is False the runbook says so next to every command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["CONFIRMED", "GATEWAY_ADMIN", "GATEWAY_URL", "Action", "actions_for", "admin_curl"]

GATEWAY_URL = "http://127.0.0.1:8080"
CONFIRMED = False
GATEWAY_ADMIN: dict[str, tuple[str, str]] = {
    # name -> (method, path template)
    "state": ("GET", "/admin/state"),
    "disable_provider": ("POST", "/admin/providers/{provider}/disable"),
    "enable_provider": ("POST", "/admin/providers/{provider}/enable"),
    "route_override": ("POST", "/admin/routes"),
    "clear_route_override": ("DELETE", "/admin/routes/{task}"),
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
    classes: list[str],
    alternatives: dict[str, str],
    base_url: str = GATEWAY_URL,
) -> list[Action]:
    """Actions for one fault kind. `classes`: workload classes the target served in the baseline;
    `alternatives`: class -> an allowed model served by another provider in this run."""
    out: list[Action] = []
    if kind in _PROVIDER_FAULTS and target:
        undo = [admin_curl("clear_route_override", base_url=base_url, task=t) for t in classes if t in alternatives]
        out.append(
            Action(
                "Kill switch: take the provider out of rotation",
                f"when {target} keeps failing and the gateway keeps trying it (slow detection, retries piling up)",
                admin_curl("disable_provider", base_url=base_url, provider=target),
            )
        )
        for task in classes:
            model = alternatives.get(task)
            if model is None:
                continue
            out.append(
                Action(
                    f"Route override: pin class {task} to {model}",
                    f"{model} is allowed for {task} and was served by another provider than {target} in this run",
                    admin_curl("route_override", {"class": task, "model": model}, base_url=base_url),
                )
            )
        out.append(
            Action(
                "Undo once the provider is healthy again",
                "re-enable the provider and drop the overrides, or traffic stays on the fallback",
                "\n".join([admin_curl("enable_provider", base_url=base_url, provider=target), *undo]),
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
    elif kind == "burst":
        out.append(
            Action(
                "No load-shedding switch in the reference gateway",
                "if latency or the spend ceiling are at risk, pin low-tier classes to the cheapest allowed model",
                admin_curl(
                    "route_override", {"class": "<class>", "model": "<cheapest allowed model>"}, base_url=base_url
                ),
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
