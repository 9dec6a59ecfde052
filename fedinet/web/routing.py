"""A starlette router that finds a request's route without trying every route in turn.

Starlette's router tries each route's regular expression in order until one matches.
fedinet has about two hundred routes, and the client API's are far down the list: the
home timeline was the 106th, about 65 µs of matching on every request (a seventh of
serving a page of it). :class:`IndexedRouter` lists, for each path that some route has
literally (no parameters), the routes whose pattern matches that path, in their order;
a request for such a path tries those only, which decides exactly as trying them all
would (the others cannot match it). Any other path goes through starlette's own loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

__all__ = ["IndexedRouter"]


def _could_match(route: BaseRoute, path: str) -> bool:
    regex = getattr(route, "path_regex", None)
    if regex is None:
        return True  # Host and custom routes: keep them where they are
    return regex.match(path) is not None


def _index(routes: Sequence[BaseRoute]) -> dict[str, list[BaseRoute]]:
    literal = {
        route.path
        for route in routes
        if isinstance(route, Route | WebSocketRoute) and not route.param_convertors
    }
    return {path: [r for r in routes if _could_match(r, path)] for path in literal}


class IndexedRouter(Router):
    _indexed: tuple[int, int] = (-1, 0)
    _by_path: dict[str, list[BaseRoute]]

    def _candidates(self, path: str) -> list[BaseRoute] | None:
        routes = self.routes
        # rebuilt when routes are added (the tests extend the list of a built app)
        signature = (len(routes), id(routes[-1]) if routes else 0)
        if signature != self._indexed:
            self._by_path = _index(routes)
            self._indexed = signature
        return self._by_path.get(path)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        # (under a root_path, starlette matches the path less it: leave that to it)
        if scope["type"] != "lifespan" and not scope.get("root_path"):
            candidates = self._candidates(scope["path"])
            if candidates is not None:
                scope.setdefault("router", self)
                partial = None
                for route in candidates:
                    match, child_scope = route.matches(scope)
                    if match is Match.FULL:
                        scope["route"] = route
                        scope.update(child_scope)
                        await route.handle(scope, receive, send)
                        return
                    if match is Match.PARTIAL and partial is None:
                        partial, partial_scope = route, child_scope
                if partial is not None:
                    scope["route"] = partial
                    scope.update(partial_scope)
                    await partial.handle(scope, receive, send)
                    return
        # not a literal path, or nothing took it (redirects, 404): starlette's own way
        await super().app(scope, receive, send)
