"""The controller's view of primary objects: its own writes count until the watch catches up."""

from __future__ import annotations

from staticsite.machinery.controller import ObjectView
from staticsite.machinery.resources import JsonObject, ObjectKey

KEY = ObjectKey("sites", "web")


def _site(version: str, ready: str) -> JsonObject:
    return {
        "metadata": {"name": "web", "namespace": "sites", "resourceVersion": version},
        "status": {"ready": ready},
    }


def _view_of(watched: list[JsonObject]) -> ObjectView:
    view = ObjectView()
    view.bind({KEY: watched}, {})
    return view


def test_a_write_is_seen_while_the_watch_still_shows_the_version_it_replaced() -> None:
    watched = [_site("10", "False")]
    view = _view_of(watched)

    view.remember_write(KEY, watched[0], _site("11", "True"))

    assert view.primary(KEY) == _site("11", "True")


def test_the_watched_object_wins_once_the_watch_shows_a_newer_version() -> None:
    watched = [_site("10", "False")]
    view = _view_of(watched)
    view.remember_write(KEY, watched[0], _site("11", "True"))

    watched[0] = _site("12", "Unknown")

    assert view.primary(KEY) == _site("12", "Unknown")
    watched[0] = _site("10", "False")
    assert view.primary(KEY) == _site("10", "False")


def test_a_deleted_object_is_gone_whatever_was_written() -> None:
    watched = [_site("10", "False")]
    view = _view_of(watched)
    view.remember_write(KEY, watched[0], _site("11", "True"))

    watched.clear()

    assert view.primary(KEY) is None
