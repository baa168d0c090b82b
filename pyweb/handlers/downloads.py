"""``downloads://prefix``: hand a model to the browser as downloads, as TF.js names them (save only).

Two files, exactly TF.js 4.22's ``browserDownloads`` (tfjs-core/src/io/browser_files.ts):

- ``<prefix>.json``: model.json in the browser layout, manifest
  ``[{"paths":["./<prefix>.weights.bin"],"weights":[...]}]`` (no ``weights``
  key when the specs are None), type ``application/json``;
- ``<prefix>.weights.bin``: every weight byte, type ``application/octet-stream``;
  only when ``weight_data`` is not None (a topology-only save downloads just
  the JSON).

``prefix`` is the path after ``downloads://`` (the scheme is stripped again if
it is repeated); an empty path gives ``model``. Browsers sanitise the names
(``a/b`` is saved as ``a_b.json``).

**Single file** (``single_file=True``), for browsers or policies that block a
page's second download: ONE file ``<prefix>.json`` holding the same model.json
plus one more top-level key, ``"pywebWeightsData"``: the standard (RFC 4648,
padded) base64 of all weight bytes, in manifest path order. Without that key
the file is byte for byte the two-file JSON, manifest path included, so:

- pyweb loads it whole: :func:`pyweb.browser_files` with the file alone,
  ``file://DIR/<prefix>.json``, ``http://`` (the manifest's files are not read);
- TF.js drops unknown keys: ``tf.io.browserFiles([file])`` loads its topology
  (TF.js reads no weights from a lone JSON), and with a ``<prefix>.weights.bin``
  beside it every TF.js loader reads it as a normal model.json.

Base64 makes the file 4/3 the size of the weights.

**Where the files go** is platform-provided: in Pyodide the page's
``<a download>`` clicks (:class:`pyweb.browser.dom.AnchorDownloads`); in CPython
a folder, after ``pyweb.emulation.install(downloads_dir=...)``
(:class:`pyweb.emulation.FolderDownloads`); or any ``target=`` with
``download(files)`` (and optionally ``async adownload(files)``), where files are
``(suggested_name, bytes_like, mime_type)`` in click order.

**One download per user gesture** (``deliver="gesture"``, the default): a
browser lets a page start one download per click or key press unless the user
allowed the site to download automatically. Chromium's default ("ask") drops a
second download started without a new gesture, and the tab then refuses the
following ones; Firefox with download spam protection on blocks every later
download of a site once one started without a gesture. So, on a page, the
first file is clicked only while the page has user activation (the save runs
within a few seconds of a click or key press: a button's handler, a notebook
cell run with Shift+Enter), and every other file is offered as a button in a
small panel at the page's bottom right, one click each. ``deliver="script"``
clicks every file at once, as TF.js does (only the first arrives unless the
site may download automatically). ``single_file=True`` needs one download,
so one gesture. A blocked download gives the page no signal: the save's
``SaveResult.delivery`` says which files were clicked and which offered, not
which arrived. The measured behaviour of each browser and permission is in
README ("Downloads and the browser's permission").

Differences from TF.js: object URLs are revoked once clicked; the first click
happens before ``save`` returns, later ``"script"`` clicks when Python yields
to the page (``asave`` returns once all are dispatched). From a Web Worker
(a JupyterLite kernel) the page does the clicking (:mod:`pyweb.browser.bridge`).
A browser cannot take a download back, so a failure after the first click
cannot be undone (the folder target does remove what it wrote).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from ..artifacts import artifacts_info, embed_weights, require_json_topology, to_model_json
from ..types import Handler, ModelArtifacts, SaveResult

__all__ = [
    "BINARY_MIME",
    "JSON_MIME",
    "SCHEME",
    "AsyncDownloadTarget",
    "DownloadTarget",
    "DownloadsHandler",
    "download_files",
]

SCHEME = "downloads://"
DEFAULT_PREFIX = "model"
JSON_EXTENSION = ".json"
WEIGHTS_EXTENSION = ".weights.bin"
JSON_MIME = "application/json"
BINARY_MIME = "application/octet-stream"
#: pyweb.env platform name of the download target (set by pyweb.emulation.install).
PLATFORM = "downloads"

#: One download: (suggested file name, bytes-like content, MIME type).
DownloadFile = tuple[str, Any, str]
#: How files are handed to a page: one per user gesture, or all from script (TF.js).
DELIVERIES = ("gesture", "script")


@runtime_checkable
class DownloadTarget(Protocol):
    """Where ``downloads://`` files go: the page, a folder, or a test double.

    ``download(files, deliver=...)`` takes the files in click order and may
    return a delivery report (``{"clicked": [...], "offered": [...]}``). A
    target may also be an :class:`AsyncDownloadTarget`.
    """

    def download(self, files: Sequence[DownloadFile], *, deliver: str = "gesture") -> Any: ...


@runtime_checkable
class AsyncDownloadTarget(DownloadTarget, Protocol):
    """A :class:`DownloadTarget` with an async twin, which ``asave`` awaits (the page's targets)."""

    async def adownload(self, files: Sequence[DownloadFile], *, deliver: str = "gesture") -> Any: ...


class DownloadsHandler(Handler):
    """Save to ``downloads://prefix``: ``<prefix>.json`` and ``<prefix>.weights.bin``.

    Parameters
    ----------
    path
        The file name prefix (``downloads://`` is stripped if present; empty
        gives ``model``).
    single_file
        Download one self-contained ``<prefix>.json`` with the weights embedded
        (see the module docstring) instead of two files.
    deliver
        ``"gesture"`` (one download per user gesture, the rest offered as
        buttons) or ``"script"`` (every file clicked at once, as TF.js does).
    target
        A :class:`DownloadTarget`; by default the page in Pyodide, or the
        folder given to ``pyweb.emulation.install(downloads_dir=...)``, looked
        up at each save.

    Raises
    ------
    RuntimeUnavailableError
        On save, in CPython with no target and no emulation installed.
    OperationNotSupportedError
        On load: downloads cannot be read back (upload them with
        :func:`pyweb.browser_files`).

    Examples
    --------
    >>> pyweb.save(artifacts, "downloads://my-model")  # doctest: +SKIP
    >>> await pyweb.asave(artifacts, "downloads://my-model", single_file=True)  # doctest: +SKIP
    """

    save_options = frozenset({"single_file", "deliver", "target"})

    def __init__(
        self,
        path: str = "",
        *,
        single_file: bool = False,
        deliver: str = "gesture",
        target: DownloadTarget | None = None,
    ) -> None:
        if not isinstance(path, str):
            raise TypeError(f"downloads:// needs a str file name prefix, not {type(path).__name__}")
        if deliver not in DELIVERIES:
            raise ValueError(f"deliver must be one of {DELIVERIES}, not {deliver!r}")
        self.deliver = deliver
        prefix = path.removeprefix(SCHEME)
        self.prefix = prefix or DEFAULT_PREFIX
        self.url = SCHEME + self.prefix
        self.json_name = self.prefix + JSON_EXTENSION
        self.weights_name = self.prefix + WEIGHTS_EXTENSION
        self.single_file = bool(single_file)
        self._target = target

    @property
    def target(self) -> DownloadTarget:
        return self._target if self._target is not None else default_target()

    def files(self, artifacts: ModelArtifacts) -> list[DownloadFile]:
        """What a save downloads, in click order (pure: nothing is downloaded)."""
        return download_files(artifacts, self.prefix, single_file=self.single_file)

    def save(self, artifacts: ModelArtifacts) -> SaveResult:
        files = self.files(artifacts)
        info = artifacts_info(artifacts)
        return SaveResult(info, delivery=_report(self.target.download(files, deliver=self.deliver), files))

    async def asave(self, artifacts: ModelArtifacts) -> SaveResult:
        files = self.files(artifacts)
        info = artifacts_info(artifacts)
        target = self.target
        if isinstance(target, AsyncDownloadTarget):
            report = await target.adownload(files, deliver=self.deliver)
        else:
            report = target.download(files, deliver=self.deliver)
        return SaveResult(info, delivery=_report(report, files))

    def __repr__(self) -> str:
        return f"<DownloadsHandler {self.url}{' single_file' if self.single_file else ''}>"


def _report(report: Any, files: Sequence[DownloadFile]) -> dict[str, list[str]]:
    # A target that reports nothing (a folder, a test double) took every file.
    if isinstance(report, dict) and "clicked" in report:
        return {"clicked": list(report["clicked"]), "offered": list(report.get("offered", []))}
    return {"clicked": [name for name, _, _ in files], "offered": []}


def download_files(artifacts: ModelArtifacts, prefix: str, *, single_file: bool = False) -> list[DownloadFile]:
    """The files TF.js's ``browserDownloads(prefix)`` would download, plus the single-file form.

    Raises
    ------
    ArtifactError
        A binary (GraphDef) topology: like TF.js, only JSON topologies download.
    """
    require_json_topology(artifacts, "downloads://")
    weights_name = prefix + WEIGHTS_EXTENSION
    text = to_model_json(artifacts, ["./" + weights_name], layout="browser").encode("utf-8")
    has_weights = artifacts.weight_data is not None
    if single_file:
        return [
            (prefix + JSON_EXTENSION, embed_weights(text, artifacts.weight_data) if has_weights else text, JSON_MIME)
        ]
    files: list[DownloadFile] = [(prefix + JSON_EXTENSION, text, JSON_MIME)]
    if has_weights:
        files.append((weights_name, artifacts.weight_bytes(), BINARY_MIME))
    return files


def default_target() -> DownloadTarget:
    """The installed stand-in, else the page's downloads in Pyodide."""
    from .. import env

    target: DownloadTarget = env.downloads()
    return target
