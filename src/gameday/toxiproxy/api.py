"""Toxiproxy's HTTP API on aiohttp: routes as Go's mux matches them, thin handlers, errors as Go writes them.

Unknown paths get `404 page not found` in plain text and known paths with another method an empty
405, as the real server's router does. A `User-Agent` starting with `Mozilla/` is refused (the real
server's guard against browsers driving it from a web page).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from gameday.toxiproxy import errors
from gameday.toxiproxy.collection import ProxyCollection
from gameday.toxiproxy.replies import (
    REQUEST_ID_HEADER,
    error_reply,
    json_reply,
    method_not_allowed,
    no_content,
    not_found,
    request_id,
    text_error,
)

__all__ = ["TOXIPROXY_VERSION", "ToxiproxyApi", "build_app"]

TOXIPROXY_VERSION = "2.12.0"  # the API version this server follows

Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]


class ToxiproxyApi:
    def __init__(self, proxies: ProxyCollection, version: str = TOXIPROXY_VERSION) -> None:
        self.proxies = proxies
        self.version_text = version
        segment = "([^/]+)"
        self.routes: list[tuple[re.Pattern[str], tuple[str, ...], dict[str, Handler]]] = [
            (re.compile(r"/reset"), (), {"POST": self.reset}),
            (re.compile(r"/proxies"), (), {"GET": self.proxy_index, "POST": self.proxy_create}),
            (re.compile(r"/populate"), (), {"POST": self.populate}),
            (
                re.compile(rf"/proxies/{segment}"),
                ("proxy",),
                {
                    "GET": self.proxy_show,
                    "POST": self.proxy_update,
                    "PATCH": self.proxy_update,
                    "DELETE": self.proxy_delete,
                },
            ),
            (
                re.compile(rf"/proxies/{segment}/toxics"),
                ("proxy",),
                {"GET": self.toxic_index, "POST": self.toxic_create},
            ),
            (
                re.compile(rf"/proxies/{segment}/toxics/{segment}"),
                ("proxy", "toxic"),
                {
                    "GET": self.toxic_show,
                    "POST": self.toxic_update,
                    "PATCH": self.toxic_update,
                    "DELETE": self.toxic_delete,
                },
            ),
            (re.compile(r"/version"), (), {"GET": self.version}),
        ]

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        for pattern, names, methods in self.routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                return method_not_allowed()
            if request.headers.get("User-Agent", "").startswith("Mozilla/"):
                return text_error("User agent not allowed", 403)
            try:
                return await handler(request, dict(zip(names, match.groups(), strict=True)))
            except errors.ApiError as exc:
                return error_reply(exc)
        return not_found()

    # -- proxies ----------------------------------------------------------------------------------
    async def proxy_index(self, request: web.Request, _: dict[str, str]) -> web.Response:
        return json_reply({p.name: p.to_json() for p in self.proxies.sorted()})

    async def proxy_create(self, request: web.Request, _: dict[str, str]) -> web.Response:
        body = await request.read()
        async with self.proxies.lock:
            proxy = await self.proxies.create(body)
        return json_reply(proxy.to_json(), status=201)

    async def proxy_show(self, request: web.Request, args: dict[str, str]) -> web.Response:
        return json_reply(self.proxies.get(args["proxy"]).to_json())

    async def proxy_update(self, request: web.Request, args: dict[str, str]) -> web.Response:
        body = await request.read()
        async with self.proxies.lock:
            proxy = await self.proxies.update(args["proxy"], body)
        return json_reply(proxy.to_json())

    async def proxy_delete(self, request: web.Request, args: dict[str, str]) -> web.Response:
        async with self.proxies.lock:
            self.proxies.delete(args["proxy"])
        return no_content()

    async def populate(self, request: web.Request, _: dict[str, str]) -> web.Response:
        body = await request.read()
        async with self.proxies.lock:
            applied, error = await self.proxies.populate(body)
        # Go writes a nil list as null, and an error here inside the JSON reply, with the proxies applied.
        listed = [p.to_json() for p in applied] or None
        if error is None:
            return json_reply({"proxies": listed}, status=201)
        return json_reply({**error.body(), "proxies": listed}, status=error.status)

    async def reset(self, request: web.Request, _: dict[str, str]) -> web.Response:
        async with self.proxies.lock:
            await self.proxies.reset()
        return no_content()

    # -- toxics -----------------------------------------------------------------------------------
    async def toxic_index(self, request: web.Request, args: dict[str, str]) -> web.Response:
        proxy = self.proxies.get(args["proxy"])
        return json_reply([w.to_json() for w in proxy.toxics.all()])

    async def toxic_create(self, request: web.Request, args: dict[str, str]) -> web.Response:
        body = await request.read()
        async with self.proxies.lock:
            wrapper = self.proxies.get(args["proxy"]).toxics.add_json(body)
        return json_reply(wrapper.to_json())

    async def toxic_show(self, request: web.Request, args: dict[str, str]) -> web.Response:
        proxy = self.proxies.get(args["proxy"])
        return json_reply(proxy.toxics.get(args["toxic"]).to_json())

    async def toxic_update(self, request: web.Request, args: dict[str, str]) -> web.Response:
        body = await request.read()
        async with self.proxies.lock:
            wrapper = self.proxies.get(args["proxy"]).toxics.update_json(args["toxic"], body)
        return json_reply(wrapper.to_json())

    async def toxic_delete(self, request: web.Request, args: dict[str, str]) -> web.Response:
        async with self.proxies.lock:
            self.proxies.get(args["proxy"]).toxics.remove(args["toxic"])
        return no_content()

    async def version(self, request: web.Request, _: dict[str, str]) -> web.Response:
        body = f'{{"version": "{self.version_text}"}}\n'.encode()
        return web.Response(body=body, headers={"Content-Type": "application/json;charset=utf-8"})


_Next = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _request_id(request: web.Request, handler: _Next) -> web.StreamResponse:
    response = await handler(request)
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def build_app(proxies: ProxyCollection) -> web.Application:
    app = web.Application(middlewares=[_request_id])
    api = ToxiproxyApi(proxies)
    app.router.add_route("*", "/{path:.*}", api.dispatch)

    async def stop_proxies(_: web.Application) -> None:
        proxies.close_all()

    app.on_cleanup.append(stop_proxies)
    return app
