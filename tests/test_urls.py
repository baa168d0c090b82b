from __future__ import annotations

import pytest

from pyweb.errors import InvalidURLError
from pyweb.urls import ModelURL, parse_url


@pytest.mark.parametrize(
    "url, scheme, path",
    [
        ("localstorage://my/model", "localstorage", "my/model"),
        ("file:///tmp/x", "file", "/tmp/x"),
        ("MEMORY://a", "memory", "a"),
        ("http://h:1/a/model.json?x=1", "http", "http://h:1/a/model.json?x=1"),
        ("HTTPS://h/m.json", "https", "https://h/m.json"),
        ("indexeddb://a://b", "indexeddb", "a://b"),
    ],
)
def test_parse(url, scheme, path):
    assert parse_url(url) == ModelURL(scheme, path)


@pytest.mark.parametrize("url", ["", "no-scheme", "memory://", "memory://   ", "://x", "1abc://x"])
def test_invalid(url):
    with pytest.raises(InvalidURLError):
        parse_url(url)
    with pytest.raises(ValueError):
        parse_url(url)


def test_not_a_string():
    with pytest.raises(InvalidURLError):
        parse_url(None)  # type: ignore[arg-type]


def test_default_scheme_for_plain_paths():
    assert parse_url("models/a", default_scheme="file") == ModelURL("file", "models/a")
    assert parse_url("memory://a", default_scheme="file") == ModelURL("memory", "a")


def test_str_round_trips():
    for url in ["memory://a/b", "http://h/model.json", "file:///x"]:
        assert str(parse_url(url)) == url


def test_empty_path_allowed_for_whole_stores():
    assert parse_url("memory://", allow_empty_path=True) == ModelURL("memory", "")
