"""The embedded Toxiproxy-compatible server: Toxiproxy's HTTP API and toxics over raw asyncio sockets.

Used when no real `toxiproxy-server` is found (see `locate`). Run it with `gameday toxiproxy`.
Modules: `api` (routes and handlers), `collection`/`proxy` (proxies and listeners), `connection`/`link`
(the data path), `toxic_set` (toxics per proxy), `toxics/` (one class per toxic), `gojson`/`replies`
(bodies and errors as the Go server writes them).
"""

__all__: list[str] = []
