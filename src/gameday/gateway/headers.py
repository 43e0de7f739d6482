"""The `x-gameday-*` headers every answer carries (DESIGN.md), successes and errors alike."""

from __future__ import annotations

from gameday.gateway.attempts import Served
from gameday.gateway.errors import ApiError
from gameday.gateway.router import RoutePlan

__all__ = ["error_headers", "fallback_reason", "served_headers"]


def fallback_reason(plan: RoutePlan, served: Served) -> str | None:
    """Why another model than the route's first served: every failure on the way, `kill_switch`, or None."""
    if plan.steered == "kill_switch":
        return "kill_switch"
    if plan.primary is None or served.candidate.model == plan.primary:
        return None
    return ",".join(served.failures)[:300] or "fallback"


def served_headers(
    plan: RoutePlan, model: str, provider: str, attempts: int, fallback: str | None, cost: float
) -> dict[str, str]:
    headers = {
        "x-gameday-model": model,
        "x-gameday-provider": provider,
        "x-gameday-route": plan.route,
        "x-gameday-attempts": str(attempts),
        "x-gameday-cost-usd": f"{cost:.10f}",
        "x-gameday-task": plan.task,
        "x-gameday-tier": plan.tier,
    }
    if fallback:
        headers["x-gameday-fallback"] = fallback
    return headers


def error_headers(exc: BaseException) -> dict[str, str]:
    """What an error answer says: route and attempts when known, and that nothing was spent."""
    headers = {"x-gameday-cost-usd": "0", "x-gameday-attempts": str(getattr(exc, "attempts", 0) or 0)}
    route = getattr(exc, "route", None)
    if route:
        headers["x-gameday-route"] = route
    if isinstance(exc, ApiError) and exc.retry_after_s is not None:
        headers["retry-after"] = str(max(1, round(exc.retry_after_s)))
    return headers
