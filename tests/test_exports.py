from __future__ import annotations

import pyweb


def test_all_is_sorted_and_complete():
    assert pyweb.__all__ == sorted(pyweb.__all__)
    for name in pyweb.__all__:
        assert getattr(pyweb, name) is not None, name


def test_public_api_names():
    for name in [
        "save",
        "asave",
        "load",
        "aload",
        "list_models",
        "alist_models",
        "copy_model",
        "acopy_model",
        "move_model",
        "amove_model",
        "remove_model",
        "aremove_model",
        "to_model_json",
        "from_model_json",
        "encode_weights",
        "decode_weights",
        "from_memory",
        "with_save_handler",
        "register_handler",
        "ModelArtifacts",
        "SaveResult",
        "ModelArtifactsInfo",
    ]:
        assert name in pyweb.__all__


def test_sync_and_async_twins_pair_up():
    import inspect

    for name in pyweb.__all__:
        obj = getattr(pyweb, name)
        if name.startswith("a") and inspect.iscoroutinefunction(obj):
            assert name[1:] in pyweb.__all__ and not inspect.iscoroutinefunction(getattr(pyweb, name[1:]))
