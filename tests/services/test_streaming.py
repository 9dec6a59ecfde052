"""Stream routing without a database: payload parsing, stream names, who wants what."""

from __future__ import annotations

import pytest

from fedinet.errors import ValidationError
from fedinet.services.streaming import StreamEvent, Subscription, parse_event, parse_stream


def test_parse_event() -> None:
    assert parse_event('{"e": "home", "o": 1, "s": 2}') == StreamEvent(
        kind="home", owner_id=1, status_id=2
    )
    assert parse_event('{"e": "public", "s": 5, "l": true}') == StreamEvent(
        kind="public", status_id=5, local=True
    )
    for bad in ("", "nope", "[]", '{"e": "other"}', '{"e": "home", "o": true}'):
        event = parse_event(bad)
        assert event is None or event.owner_id is None


def test_parse_stream() -> None:
    assert parse_stream("user", None) == ("user", None)
    assert parse_stream("hashtag", "#Cats") == ("hashtag", "cats")
    with pytest.raises(ValidationError):
        parse_stream("hashtag", "")
    with pytest.raises(ValidationError):
        parse_stream(None, None)
    assert parse_stream("direct", None) == ("direct", None)


def test_parse_list_stream() -> None:
    """The list's id, as a string or a number, becomes the stream's parameter; anything
    that is not a plain bigint is refused before any query."""
    assert parse_stream("list", None, "42") == ("list", "42")
    assert parse_stream("list", None, 42) == ("list", "42")
    assert parse_stream("list", None, "007") == ("list", "7")
    assert parse_stream("list", None, "9" * 18) == ("list", "9" * 18)
    for bad in (None, "", "abc", "-1", "1e3", " 4", "\u00b2", "\u0663", "9" * 19, True, 4.0, [4]):
        with pytest.raises(ValidationError) as refused:
            parse_stream("list", None, bad)
        assert refused.value.field == "list", bad
        assert refused.value.message == "Missing list name parameter"


def test_subscriptions_get_only_their_events() -> None:
    mine = Subscription(actor_id=1, streams={("user", None)})
    notes_only = Subscription(actor_id=1, streams={("user:notification", None)})
    public = Subscription(actor_id=None, streams={("public:local", None)})
    idle = Subscription(actor_id=1)
    home_for_me = StreamEvent(kind="home", owner_id=1, status_id=9)
    home_for_other = StreamEvent(kind="home", owner_id=2, status_id=9)
    notification = StreamEvent(kind="notification", owner_id=1, notification_id=3)
    posted = StreamEvent(kind="public", status_id=9, local=True)
    deleted = StreamEvent(kind="delete", status_id=9)

    assert mine.wants(home_for_me) and not mine.wants(home_for_other)
    assert mine.wants(notification) and notes_only.wants(notification)
    assert not notes_only.wants(home_for_me)
    assert public.wants(posted) and not mine.wants(posted)
    assert not public.wants(notification)
    assert all(s.wants(deleted) for s in (mine, notes_only, public))
    assert not any(idle.wants(e) for e in (home_for_me, notification, posted, deleted))


def test_list_and_direct_streams_get_their_owners_home_events() -> None:
    """Which list shows the status, and whether it is direct, is the renderer's to check;
    the hub hands a member's home events to every feed stream of theirs."""
    listing = Subscription(actor_id=1, streams={("list", "5")})
    direct = Subscription(actor_id=1, streams={("direct", None)})
    home_for_me = StreamEvent(kind="home", owner_id=1, status_id=9)
    home_for_other = StreamEvent(kind="home", owner_id=2, status_id=9)
    notification = StreamEvent(kind="notification", owner_id=1, notification_id=3)
    posted = StreamEvent(kind="public", status_id=9, local=True)
    for sub in (listing, direct):
        assert sub.wants(home_for_me)
        assert not sub.wants(home_for_other)
        assert not sub.wants(notification)
        assert not sub.wants(posted)


def test_a_full_queue_drops_instead_of_blocking() -> None:
    sub = Subscription(actor_id=1, streams={("user", None)})
    event = StreamEvent(kind="home", owner_id=1, status_id=1)
    for _ in range(sub.queue.maxsize + 5):
        sub.offer(event)
    assert sub.queue.qsize() == sub.queue.maxsize
    assert sub.dropped == 5
