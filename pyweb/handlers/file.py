"""``file://DIR``: a directory holding ``model.json`` and its weight files.

The layout is tfjs-node's (tfjs-node/src/io/file_system.ts): ``model.json``
with ``weightsManifest`` right after ``modelTopology`` and one weight file,
``weights.bin``. With ``shard_bytes`` the weights are cut into the
converter's ``group1-shard1ofK.bin`` files instead.

Differences from tfjs-node, all on the safe side:

- Saves are atomic. Everything is written and fsynced in a hidden sibling
  directory (``.pywebtmp-XXXXXXXX-DIR``), then swapped in by rename
  (``renameat2(RENAME_EXCHANGE)`` on Linux, two renames elsewhere). A save
  that fails for any reason, KeyboardInterrupt included, removes that
  directory and leaves the previous model whole.
- A save never destroys user files: if ``DIR`` holds anything besides a
  previous model (its ``model.json`` and the files its manifest lists; a
  model nested in a subdirectory counts as foreign) the save is refused with
  :class:`~pyweb.errors.StorageError`.
- ``save("file://DIR/model.json")`` saves into ``DIR``; other ``.json`` names
  are refused (a save always writes ``model.json``). Loads take either form,
  and any ``*.json`` file name.
- Missing parent directories are created (tfjs-node's ``mkdir`` is not
  recursive and fails).
- The model's directory is a boundary (see :mod:`pyweb._confined`): loads,
  listings and removals never read, follow or delete anything outside it.
  Manifest paths that are absolute, hold ``..`` or pass through a symbolic
  link, and entries that are links or special files, are refused with
  :class:`~pyweb.errors.CorruptModelError`; a removal unlinks a link inside the
  folder, never its target. The directory's own path is taken as the user
  wrote it: ``file://models/latest``, a link to ``models/v3``, loads, saves and
  removes the model in ``models/v3`` (a save replaces ``v3`` and keeps the link).
- Loads check the weight files' sizes against the specs before reading a byte:
  too short is a CorruptModelError; longer (TF.js ignores the tail) reads only
  what the specs use and warns with :class:`~pyweb.weights.TrailingBytesWarning`.
  ``sha256`` digests are checked when the manifest records them.
- Leftovers of a save that was killed (``.pywebtmp-*-DIR``) are removed by the
  next save, load or removal of that model, or by ``pyweb clean``.
- Loads read every weight file straight into one buffer (no intermediate
  copies): ``weight_data`` is a writable ``memoryview`` over an anonymous
  memory map, so :func:`~pyweb.decode_weights` returns views onto it. Copy it
  with ``bytes(...)`` to pickle it.
"""

from __future__ import annotations

import datetime as _dt
import os
import posixpath
import re
import threading
import warnings
from typing import Any

from .. import _confined
from .._atomic import (
    CHUNK,
    Progress,
    ProgressCallback,
    is_leftover,
    staging,
    swap_in,
    sweep_stale,
    sweep_tree,
    write_all,
)
from .._buffers import allocate
from ..artifacts import (
    MODEL_JSON,
    NODE_WEIGHTS_PATH,
    add_integrity,
    artifacts_info,
    check_integrity,
    check_shard_bytes,
    manifest_paths,
    parse_model_json,
    require_json_topology,
    shard_paths,
    split_shards,
    to_model_json,
)
from ..env import IN_PYODIDE
from ..errors import (
    ArtifactError,
    CorruptModelError,
    InvalidURLError,
    ModelNotFoundError,
    PyWebError,
    StorageError,
    UnsupportedDTypeError,
)
from ..types import Handler, ModelArtifacts, ModelArtifactsInfo, ModelStore, SaveResult
from ..weights import TrailingBytesWarning, weights_nbytes

__all__ = ["FileHandler", "FileStore", "remove_leftovers"]


class FileHandler(Handler):
    """Save to and load from a model directory on the local file system.

    Parameters
    ----------
    path
        The directory (``file://DIR``), or for loading also its ``model.json``
        (any path ending in ``.json``). Relative paths resolve against the
        working directory; ``~`` is expanded.
    shard_bytes
        Cut the weights into ``group1-shardIofK.bin`` files of this many bytes
        (the converter's layout); ``None`` writes one ``weights.bin``.
    integrity
        Record a sha256 per weight file in the manifest (TF.js ignores it;
        pyweb checks it on load).
    on_progress
        Called with the fraction done (0..1, rising, ending at 1.0) after
        each chunk read or written.

    Examples
    --------
    >>> pyweb.save(artifacts, "file:///tmp/my-model", shard_bytes=4 << 20)  # doctest: +SKIP
    >>> pyweb.load("file:///tmp/my-model/model.json")  # doctest: +SKIP
    """

    save_options = frozenset({"shard_bytes", "integrity", "on_progress"})
    load_options = frozenset({"on_progress"})

    def __init__(
        self,
        path: str,
        *,
        shard_bytes: int | None = None,
        integrity: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        check_shard_bytes(shard_bytes)
        self.path = path
        self.url = f"file://{path}"
        self.local_path = _local(path)
        self.shard_bytes = shard_bytes
        self.integrity = integrity
        self.on_progress = on_progress

    # -- save ------------------------------------------------------------------

    def save(self, artifacts: ModelArtifacts) -> SaveResult:
        require_json_topology(artifacts, "file://")
        info = artifacts_info(artifacts)
        target = self._save_dir()
        files, manifest = self._plan(artifacts)
        text = to_model_json(artifacts, manifest, layout="node").encode("utf-8", "surrogatepass")
        if IN_PYODIDE:  # JupyterLite's /drive cannot hold some folder names
            from ..browser.drive import check_drive_folders

            check_drive_folders(target, self.url)
        try:
            _prepare_target(target, self.url)  # refuse early, before writing anything
            sweep_stale(target)
            with staging(target) as tmp:
                write_all(tmp, files + [(MODEL_JSON, [memoryview(text)])], self.on_progress)
                with _target_lock(target):  # saves of one model in this process take turns to check and swap
                    _prepare_target(target, self.url)
                    swap_in(tmp, target)
        except PyWebError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot save to {self.url}: {exc}", url=self.url) from exc
        return SaveResult(info)

    def _save_dir(self) -> str:
        path = self.local_path
        if path.lower().endswith(".json") and not os.path.isdir(path):
            if os.path.basename(path) != MODEL_JSON:
                raise InvalidURLError(
                    f"{self.url}: file:// saves into a directory; give the directory, not a .json file"
                )
            path = os.path.dirname(path)
        return os.path.realpath(path)

    def _plan(
        self, artifacts: ModelArtifacts
    ) -> tuple[list[tuple[str, list[memoryview]]], list[dict[str, Any]] | None]:
        if artifacts.weight_specs is None and artifacts.weight_data is None:
            return [], None  # topology only: no manifest, no weight files
        pieces = split_shards(artifacts.weight_data, self.shard_bytes)
        paths = [NODE_WEIGHTS_PATH] if self.shard_bytes is None else shard_paths(len(pieces))
        group: dict[str, Any] = {"paths": paths, "weights": artifacts.weight_specs or []}
        if self.integrity:
            add_integrity(group, pieces)
        return list(zip(paths, pieces)), [group]

    # -- load ------------------------------------------------------------------

    def load(self) -> ModelArtifacts:
        json_path = self._json_path()
        model_dir = os.path.dirname(json_path)
        sweep_stale(os.path.realpath(model_dir))  # where saves put their siblings, links resolved
        artifacts, manifest = parse_model_json(_read_json(json_path, self.url), url=self.url)
        if manifest is not None:
            artifacts.weight_data = _read_weights(model_dir, manifest, self.url, self.on_progress)
        elif self.on_progress is not None:
            self.on_progress(1.0)
        return artifacts

    @property
    def location(self) -> str:
        """The model's directory, resolved: two URLs naming one model agree here."""
        json_path = self._json_path()
        return os.path.normcase(os.path.realpath(os.path.dirname(json_path)))

    def _json_path(self) -> str:
        path = self.local_path
        if path.lower().endswith(".json") and not os.path.isdir(path):
            return path
        return os.path.join(path, MODEL_JSON)

    @classmethod
    def open_store(cls, location: str = "") -> FileStore:
        return FileStore(location)


class FileStore(ModelStore):
    """Lists model directories under ``location`` and deletes them.

    A listing holds ``location`` itself if it is a model directory, and every
    directory below it holding a ``model.json``, sorted; keys keep the
    spelling of ``location`` so ``"file://" + key`` loads each model.
    pyweb's own in-progress save directories are skipped.
    """

    def __init__(self, location: str = "") -> None:
        self.location = location

    def list_models(self) -> dict[str, ModelArtifactsInfo]:
        root = _local(self.location) if self.location else os.curdir
        if os.path.isfile(root):
            return {self.location: _stored_info(root, f"file://{self.location}")}
        if not os.path.isdir(root):
            raise ModelNotFoundError(f"no directory at file://{self.location}", url=f"file://{self.location}")
        found: dict[str, ModelArtifactsInfo] = {}
        for dirpath, dirnames, filenames in os.walk(root):  # never into linked folders
            dirnames[:] = sorted(d for d in dirnames if not is_leftover(d))
            if MODEL_JSON in filenames and not os.path.islink(os.path.join(dirpath, MODEL_JSON)):
                key = self._key(os.path.relpath(dirpath, root))
                found[key] = _stored_info(os.path.join(dirpath, MODEL_JSON), f"file://{key}")
        return dict(sorted(found.items()))

    def _key(self, rel: str) -> str:
        rel = rel.replace(os.sep, "/")
        if rel == ".":
            return self.location or "."
        if not self.location:
            return rel
        return self.location.rstrip("/") + "/" + rel

    def remove_model(self, path: str) -> ModelArtifactsInfo:
        path = path.removeprefix("file://")
        url = f"file://{path}"
        handler = FileHandler(path)
        json_path = handler._json_path()
        if not os.path.lexists(json_path):
            raise ModelNotFoundError(f"no model at {url} ({json_path} does not exist)", url=url)
        info = _stored_info(json_path, url, strict=True)
        try:
            _delete_model(os.path.dirname(json_path), url)
        except PyWebError:
            raise
        except OSError as exc:
            raise StorageError(f"cannot remove {url}: {exc}", url=url) from exc
        sweep_stale(os.path.realpath(os.path.dirname(json_path)))
        return info


def remove_leftovers(directory: str) -> list[str]:
    """Remove the folders killed saves left under ``directory`` (``pyweb clean``); returns their paths.

    A save in progress holds a lock on its folder and is never touched; where
    no lock can be taken (Windows), only leftovers an hour old go.
    """
    root = _local(directory)
    if not os.path.isdir(root):
        raise ModelNotFoundError(f"no directory at file://{directory}", url=f"file://{directory}")
    return sweep_tree(root)


# -- paths ------------------------------------------------------------------------


def _local(path: str) -> str:
    if re.match(r"^/[A-Za-z]:[/\\]", path) and os.name == "nt":
        path = path[1:]  # file:///C:/models -> C:/models
    return os.path.abspath(os.path.expanduser(path))


def _inside(model_dir: str, rel: str, url: str, call: Any) -> Any:
    """``call(model_dir, rel)`` from :mod:`pyweb._confined`, its refusals as CorruptModelError."""
    try:
        return call(model_dir, rel)
    except _confined.OutsideFolderError as exc:
        raise CorruptModelError(f"weight path {rel!r} in {url}: {exc}", part=rel, url=url) from None
    except OSError as exc:
        missing = isinstance(exc, (FileNotFoundError, NotADirectoryError))
        why = "is missing" if missing else f"cannot be read: {exc.strerror or exc}"
        raise CorruptModelError(f"weight file {rel!r} of {url} {why}", part=rel, url=url) from None


def _read_json(json_path: str, url: str) -> bytes:
    model_dir, name = os.path.split(json_path)
    try:
        return _confined.read_file(model_dir, name)
    except _confined.OutsideFolderError as exc:
        raise CorruptModelError(f"{json_path}: {exc}", part=MODEL_JSON, url=url) from None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise ModelNotFoundError(f"no model at {url} ({json_path} does not exist)", url=url) from None
    except OSError as exc:
        raise StorageError(f"cannot read {json_path}: {exc}", url=url) from exc


# -- reading ----------------------------------------------------------------------


def _read_weights(
    model_dir: str, manifest: list[dict[str, Any]], url: str, on_progress: ProgressCallback | None
) -> memoryview:
    """Every weight file, in manifest order, read straight into one buffer.

    Sizes are checked against the specs first, so nothing is allocated or
    read for a model whose files cannot hold its weights.
    """
    files = []
    for group in manifest:
        for index, rel in enumerate(group["paths"]):
            size = _inside(model_dir, rel, url, _confined.stat_file).st_size
            files.append((group, index, rel, size))
    total = sum(f[3] for f in files)
    wanted = _wanted_bytes(manifest, total, url)
    view = allocate(wanted)
    progress = Progress(wanted, on_progress)
    pos = 0
    for group, index, rel, size in files:
        take = min(size, wanted - pos)
        if take <= 0:
            break
        piece = view[pos : pos + take]
        _read_into(model_dir, rel, size, piece, url, progress)
        if take == size:
            check_integrity(group, index, piece, url=url)
        pos += take
    progress.finish()
    return view


def _wanted_bytes(manifest: list[dict[str, Any]], total: int, url: str) -> int:
    """How many of the ``total`` bytes in the weight files to read: what the specs use.

    String weights have data-dependent sizes: then every byte is read and
    the decoder checks them.
    """
    specs = [spec for group in manifest for spec in group["weights"]]
    try:
        needed = weights_nbytes(specs)
    except UnsupportedDTypeError:
        return total  # an unknown dtype: load as it is; decoding names it
    except ArtifactError as exc:  # a string weight (size unknown) or a malformed spec
        if isinstance(exc, CorruptModelError):
            raise CorruptModelError(f"{url}: {exc}", part=exc.part, url=url) from None
        return total
    if needed > total:
        message = f"the weight files of {url} hold {total} bytes but its specs need {needed}; truncated?"
        raise CorruptModelError(message, part="weight_data", url=url)
    if needed < total:
        if any("sha256" in group for group in manifest):
            message = f"the weight files of {url} hold {total} bytes, not the {needed} their specs and digests say"
            raise CorruptModelError(message, part="weight_data", url=url)
        warnings.warn(
            f"the weight files of {url} hold {total - needed} bytes after the last weight; they were not read",
            TrailingBytesWarning,
            stacklevel=5,
        )
    return needed


def _read_into(model_dir: str, rel: str, size: int, piece: memoryview, url: str, progress: Progress) -> None:
    fd = _inside(model_dir, rel, url, _confined.open_file)
    try:
        with open(fd, "rb", buffering=0) as f:
            if os.fstat(f.fileno()).st_size != size:
                raise CorruptModelError(f"weight file {rel!r} of {url} changed while loading", part=rel, url=url)
            done = 0
            while done < piece.nbytes:
                n = f.readinto(piece[done : done + CHUNK])
                if not n:
                    raise CorruptModelError(f"weight file {rel!r} of {url} shrank while reading", part=rel, url=url)
                done += n
                progress.add(n)
    except OSError as exc:
        raise CorruptModelError(f"cannot read weight file {rel!r} of {url}: {exc}", part=rel, url=url) from exc


# -- writing ----------------------------------------------------------------------


def _prepare_target(target: str, url: str) -> None:
    if os.path.exists(target) and not os.path.isdir(target):
        raise StorageError(
            f"{target} exists as a file; file:// needs a directory or a path that does not exist", url=url
        )
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.isdir(target):
        foreign = _foreign_entries(target, url)
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise StorageError(
                f"{target} holds files that are not part of a saved model ({shown}); "
                "save into a new or empty directory, or remove them first",
                url=url,
            )


_TARGET_LOCKS: dict[str, threading.Lock] = {}
_TARGET_LOCKS_GUARD = threading.Lock()


def _target_lock(target: str) -> threading.Lock:
    with _TARGET_LOCKS_GUARD:
        return _TARGET_LOCKS.setdefault(target, threading.Lock())


def _foreign_entries(directory: str, url: str) -> list[str]:
    """Entries of ``directory`` that a save would destroy but are not a model's."""
    allowed: set[str] = set()
    json_path = os.path.join(directory, MODEL_JSON)
    if os.path.isfile(json_path):
        try:
            _, manifest = parse_model_json(_read_json(json_path, url), url=url)
        except ModelNotFoundError:  # another process swapped the model out while we read it
            return []
        except CorruptModelError:
            return [MODEL_JSON + " (unreadable)"]
        allowed.add(MODEL_JSON)
        for rel in manifest_paths(manifest or []):
            norm = posixpath.normpath(rel.replace("\\", "/"))
            while norm not in ("", ".") and not norm.startswith(".."):
                allowed.add(norm)
                norm = posixpath.dirname(norm)
    found = []
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in dirnames + filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), directory).replace(os.sep, "/")
            if rel not in allowed:
                found.append(rel)
    return sorted(found)


# -- info and removal ----------------------------------------------------------------


def _stored_info(json_path: str, url: str, *, strict: bool = False) -> ModelArtifactsInfo:
    """What is stored at ``json_path``, from the files alone (date = mtime)."""
    model_dir = os.path.dirname(json_path)
    try:
        date = _dt.datetime.fromtimestamp(os.stat(json_path, follow_symlinks=False).st_mtime, _dt.UTC)
        artifacts, manifest = parse_model_json(_read_json(json_path, url), url=url)
        info = artifacts_info(artifacts, date=date)
    except (CorruptModelError, ArtifactError, StorageError):
        if strict:
            raise
        return ModelArtifactsInfo(date_saved=_dt.datetime.now(_dt.UTC), model_topology_bytes=None)
    size = 0
    for rel in manifest_paths(manifest or []):
        try:
            size += _confined.stat_file(model_dir, rel).st_size
        except OSError:  # missing, outside, or a link: not part of this model's size
            continue
    info.weight_data_bytes = size
    return info


def _delete_model(model_dir: str, url: str) -> None:
    """Remove model.json first (so no half model stays loadable), then its files.

    Only entries inside ``model_dir`` go: a link is unlinked, never followed.
    """
    _, manifest = parse_model_json(_read_json(os.path.join(model_dir, MODEL_JSON), url), url=url)
    _confined.unlink_file(model_dir, MODEL_JSON)
    subdirs: list[str] = []
    for rel in manifest_paths(manifest or []):
        try:
            subdirs += _confined.unlink_file(model_dir, rel)
        except _confined.OutsideFolderError:
            continue  # never delete outside the model directory
    _confined.remove_empty_dirs(model_dir, subdirs)
    try:
        os.rmdir(model_dir)
    except OSError:
        pass  # not empty: something else lives there
