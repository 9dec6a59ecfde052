"""``/discover``: the directory, filtered by motive, interest and region, ranked by the
ground the viewer shares with each person, each card saying why it is shown."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedinet.ap.sanitize import normalize_hashtag
from fedinet.services import people, registrations
from fedinet.services.registrations import split_interests
from fedinet.vocabulary import MOTIVES, normalize_motives
from fedinet.web.pages.kit import Form, render_page, runtime, settings, viewer

__all__ = ["routes"]

PAGE_SIZE = 20
MAX_OFFSET = 1000  # services.people.DIRECTORY_WINDOW


async def discover(request: Request) -> Response:
    found = await viewer(request)
    query = request.query_params
    motives = normalize_motives(query.getlist("motive"))
    raw_interests = query.get("interest", "")
    interests = [t for t in (normalize_hashtag(v) for v in split_interests(raw_interests)) if t]
    near_me = query.get("near") == "1" and found is not None
    local_only = query.get("scope", "all") == "local"
    page = query.get("page", "1")
    number = max(1, min(int(page) if page.isdigit() else 1, MAX_OFFSET // PAGE_SIZE))
    async with runtime(request).pool.acquire() as conn:
        cards = await people.directory_cards(
            conn,
            found.actor if found else None,
            motives=motives,
            interests=interests[:10],
            near_me=near_me,
            local_only=local_only,
            limit=PAGE_SIZE + 1,
            offset=(number - 1) * PAGE_SIZE,
        )
        in_use = await registrations.interests_in_use(conn, settings(request))
    more = len(cards) > PAGE_SIZE
    base = {
        "motive": motives,
        "interest": raw_interests,
        "near": "1" if near_me else "",
        "scope": "local" if local_only else "all",
    }

    def page_link(n: int) -> str:
        return "/discover?" + urlencode({**base, "page": str(n)}, doseq=True)

    return await render_page(
        request,
        "discover.html",
        form=Form.initial(
            motive=motives,
            interest=raw_interests,
            near="1" if near_me else "",
            scope="local" if local_only else "all",
        ),
        cards=cards[:PAGE_SIZE],
        motives=MOTIVES,
        interests_in_use=in_use,
        near_me_unavailable=query.get("near") == "1" and (found is None or not found.actor.region),
        filtered=bool(motives or interests or near_me),
        newer=page_link(number - 1) if number > 1 else "",
        older=page_link(number + 1) if more else "",
    )


routes: list[BaseRoute] = [Route("/discover", discover, methods=["GET", "HEAD"])]
