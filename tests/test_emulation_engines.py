"""pyweb.emulation's per-engine localStorage accounting (calibrated in tests/browser/test_quota.py).

Chromium and Firefox count 5,242,880 UTF-16 units of keys plus values; WebKit counts
5,242,880 bytes, 1 a character for a string that is all Latin-1 and 2 a unit for any other.
"""

from __future__ import annotations

import pytest

import pyweb
from pyweb.emulation import ENGINES, FakeLocalStorage, install
from pyweb.emulation.local_storage import storage_units, webkit_bytes
from pyweb.errors import QuotaExceededError
from pyweb.testing.contract import make_artifacts


@pytest.mark.parametrize(
    ("text", "units", "webkit"),
    [
        ("", 0, 0),
        ("abc", 3, 3),
        ("\u00e9t\u00e9", 3, 3),  # Latin-1 stays 1 byte a character
        ("\u00ff", 1, 1),
        ("\u0100", 1, 2),  # the first character past Latin-1
        ("x" * 9 + "\u4e00", 10, 20),  # one CJK character makes every unit cost 2
        ("\U0001f600", 2, 4),  # a surrogate pair: 2 units, 4 bytes
    ],
)
def test_what_one_string_costs(text, units, webkit):
    assert storage_units(text, "chromium") == storage_units(text, "firefox") == units
    assert storage_units(text, "webkit") == webkit_bytes(text) == webkit


def test_webkit_quota_is_5_mib_of_bytes():
    store = FakeLocalStorage(engine="webkit")
    store.setItem("k", "\u4e00" * 2_621_439)  # 1 + 2 * 2,621,439 = 5,242,879 bytes
    assert store.used_units == 5_242_879 and store.remaining_units == 1
    with pytest.raises(QuotaExceededError) as info:
        store.setItem("j", "\u4e00")
    assert info.value.requested_bytes == 3 and info.value.available_bytes == 1  # WebKit's own bytes
    store.setItem("j", "")  # the key's one byte still fits
    assert store.remaining_units == 0


def test_an_overwrite_frees_the_old_value_in_webkit_accounting():
    store = FakeLocalStorage(engine="webkit")
    store.setItem("k", "\u4e00" * 2_000_000)
    store.setItem("k", "x" * 5_242_879)  # fits only because the 4,000,000 old bytes are freed
    assert store.used_units == 5_242_880
    store.removeItem("k")
    assert store.used_units == 0


def test_install_engine_picks_the_accounting():
    assert ENGINES == ("chromium", "firefox", "webkit")
    with install() as em:
        assert em.local_storage.engine == "chromium"
    for engine in ENGINES:
        with install(engine=engine) as em:
            assert em.local_storage.engine == engine
            pyweb.save(make_artifacts(1), "localstorage://m")
    with pytest.raises(ValueError):
        install(engine="trident")
    with pytest.raises(TypeError):
        install(engine="webkit", local_storage=FakeLocalStorage())


def test_a_failed_save_keeps_the_old_model_under_webkit_accounting():
    with install(engine="webkit") as em:
        pyweb.save(make_artifacts(1, n=3), "localstorage://m")
        before = {
            em.local_storage.key(i): em.local_storage.getItem(em.local_storage.key(i))
            for i in range(em.local_storage.length)
        }
        # Room for the same model in UTF-16 units, not in WebKit's bytes: the metadata holds CJK.
        em.local_storage.setItem("filler", "f" * (em.local_storage.remaining_units - 6 - 10))
        with pytest.raises(QuotaExceededError):
            pyweb.save(make_artifacts(2, n=40), "localstorage://m")
        after = {
            em.local_storage.key(i): em.local_storage.getItem(em.local_storage.key(i))
            for i in range(em.local_storage.length)
        }
        after.pop("filler")
        assert after == before
