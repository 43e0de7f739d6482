"""Is a service healthy: one HTTP GET on the path its kind answers on."""

from __future__ import annotations

import requests

__all__ = ["HEALTH_PATHS", "probe"]

HEALTH_PATHS = {"mock": "/health", "gateway": "/healthz", "toxiproxy": "/version"}


def probe(url: str, kind: str, timeout_s: float = 2.0, session: requests.Session | None = None) -> str | None:
    """None when healthy, else what is wrong in a few words (`connection refused`, `HTTP 503`)."""
    path = HEALTH_PATHS.get(kind, "/health")
    getter = session.get if session is not None else requests.get
    try:
        reply = getter(url.rstrip("/") + path, timeout=timeout_s)
    except requests.Timeout:
        return f"no answer to GET {path} within {timeout_s:g} s"
    except requests.ConnectionError as exc:
        text = str(exc)
        if "refused" in text.lower():
            return "connection refused"
        return "cannot connect"
    except requests.RequestException as exc:
        return f"GET {path} failed ({type(exc).__name__})"
    with reply:
        if reply.status_code != 200:
            return f"GET {path} answered HTTP {reply.status_code}"
    return None
