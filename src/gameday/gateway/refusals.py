"""Why a request got no answer from upstream, in words an operator can act on.

- `over_budget`: 429 `budget_exceeded`, when the spend ceiling refused every model the tier allows;
- `nothing_left`: 503 `tier_escalation` when only a model below the request's tier could have served
  it (never done quietly), else 502/504 `upstream_failed`; 400 when no model's context window fits.
"""

from __future__ import annotations

from gameday.config.policy import Policy
from gameday.errors import GamedayError
from gameday.gateway.budget import SpendBudget
from gameday.gateway.errors import ApiError, BudgetExceeded, InvalidRequest, TierEscalation, UpstreamFailed
from gameday.gateway.router import RoutePlan

__all__ = ["nothing_left", "over_budget"]


def over_budget(policy: Policy, budget: SpendBudget, plan: RoutePlan, refused: list[str], attempts: int) -> ApiError:
    """429: the spend ceiling would break and no model allowed for the tier fits."""
    status = budget.status()
    error = BudgetExceeded(
        f"spend ceiling: {status['ceiling']} USD per {status['window']:g} s would be passed "
        f"({status['spent_in_window']:.6f} spent, {status['reserved']:.6f} reserved); no model allowed for tier "
        f"{plan.tier} fits ({', '.join(refused)} refused). Retry later or raise the ceiling.",
        route=plan.route,
        attempts=attempts,
    )
    error.retry_after_s = max(1.0, policy.budget.window_s / 10)
    return error


def nothing_left(
    policy: Policy, plan: RoutePlan, failures: list[str], attempts: int = 0, timed_out: bool = False
) -> GamedayError:
    """Why nothing served: a tier escalation when only a downgrade could have, else upstream failure."""
    tried = "; ".join(failures) or "none of them could be tried"
    if not plan.candidates and all(not why.startswith("not allowed") for _, why in plan.excluded):
        return InvalidRequest(
            f"no model of route {plan.route} can take this request: "
            + "; ".join(f"{m}: {why}" for m, why in plan.excluded),
            "messages",
            "context_length_exceeded",
        )
    below = [m for m, why in plan.excluded if why.startswith("not allowed")]
    below += [m for m in policy.model_names if plan.tier not in policy.model_spec(m).tiers]
    below = list(dict.fromkeys(below))
    if below and plan.steered != "kill_switch":
        return TierEscalation(
            f"tier {plan.tier}: no model allowed for it can serve now ({tried}); not downgrading to "
            f"{', '.join(below)} (not allowed for tier {plan.tier}). Escalate: restore a provider, or send "
            "the request with a lower tier on purpose.",
            route=plan.route,
            attempts=attempts,
        )
    return UpstreamFailed(
        f"route {plan.route}: every candidate failed ({tried})",
        route=plan.route,
        attempts=attempts,
        timed_out=timed_out,
    )
