"""The Python that drives the demo page (index.html beside it), run in Pyodide.

index.html's boot.js boots Pyodide, loads numpy, unpacks the pyweb bundle and calls
:func:`main`. Everything else happens here, through the DOM (``js``) with
event listeners wrapped by ``create_proxy``: fitting the toy classifier or
loading the TF.js example, the summary and prediction, saves to every scheme,
the stored-models table (load / copy / move / delete), uploads, the storage
meters, progress bars, and the activity log.

Every action ends with exactly one entry in the activity log (``#log li``,
with ``data-scheme``, ``data-action``, ``data-bytes`` and ``data-ok``), and a
failed one also fills ``#error``. ``pyweb demo --headless`` and the browser
tests read those to check each action.

Query parameters (read by index.html and here):
``server``: origin of the upload server (``pyweb demo`` passes it);
``pyodide`` / ``bundle``: where Pyodide and the pyweb bundle come from.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import js
import numpy as np
from demo_toy_model import CLASSES, as_artifacts, fit_classifier, pad_hidden
from pyodide.ffi import create_proxy

import pyweb
from pyweb.artifacts import artifacts_info
from pyweb.errors import QuotaExceededError
from pyweb.layers.summary import summary_rows
from pyweb.urls import parse_url

FILE_ROOT = "/home/pyodide/models"  # file:// saves go to Pyodide's (in-memory) file system
EXAMPLE_PATH = "examples/tfjs-blobs/model.json"
PROBE = np.array([[0, 2], [-2, -1], [2, -1]], np.float32)
# Hidden units for each size choice: 24 bytes per unit plus 12 (see pad_hidden).
SIZES = {"toy": 16, "1mib": (1 << 20) // 24, "5mib": (5 << 20) // 24}
LABELS = {
    "localstorage": "localStorage",
    "indexeddb": "IndexedDB",
    "file": "file (Pyodide FS)",
    "http": "http (upload server)",
    "downloads": "downloads",
}
STORES = ("localstorage", "indexeddb", "file", "http")
LOG_LIMIT = 200

document = js.document
state: dict[str, Any] = {"fitted": None, "artifacts": None, "server": None}
_busy: dict[str, Any] = {"lock": asyncio.Lock(), "waiting": 0}  # actions queued or running
_static_proxies: list[Any] = []  # live as long as the page
_row_proxies: list[Any] = []  # replaced each time the table is drawn


# -- URLs ---------------------------------------------------------------


def store_url(scheme: str, name: str) -> str:
    """Where a model called ``name`` lives in ``scheme``."""
    if scheme == "file":
        return f"file://{FILE_ROOT}/{name}"
    if scheme == "http":
        if not state["server"]:
            raise RuntimeError("no upload server: open the page through `pyweb demo` (it adds ?server=...)")
        return f"{state['server']}/models/{name}/model.json"
    return f"{scheme}://{name}"


def split_url(url: str) -> tuple[str, str]:
    """(scheme, model name) of a URL in the table: the inverse of :func:`store_url`."""
    parsed = parse_url(url)
    if parsed.scheme in ("http", "https"):  # the upload server's /models/NAME/model.json
        path = unquote(urlsplit(url).path)
        return "http", path.removeprefix("/models/").removesuffix("/model.json")
    if parsed.scheme == "file":
        return "file", parsed.path.removeprefix(FILE_ROOT + "/")
    return parsed.scheme, parsed.path


def model_name() -> str:
    name = str(_el("model-name").value).strip()
    if not name:
        raise ValueError("give the model a name first")
    return name


# -- the model ----------------------------------------------------------


def weight_bytes(artifacts: pyweb.ModelArtifacts) -> int:
    return artifacts_info(artifacts).weight_data_bytes or 0


def show_model(artifacts: pyweb.ModelArtifacts, source: str) -> None:
    """Make ``artifacts`` the current model: summary, prediction, save buttons."""
    model = pyweb.layers.model_from_artifacts(artifacts)
    state["artifacts"] = artifacts
    nbytes = weight_bytes(artifacts)
    box = _el("summary")
    box.replaceChildren()
    box.appendChild(_tag("p", source, "source"))
    table = document.createElement("table")
    table.className = "layers"
    head = table.createTHead().insertRow()
    for text, cls in (("Layer", ""), ("Type", ""), ("Output shape", ""), ("Params", "num")):
        head.appendChild(_tag("th", text, cls))
    body = table.createTBody()
    for name, class_name, shape, params in summary_rows(model):
        row = body.insertRow()
        for text, cls in ((name, "layer"), (class_name, ""), (shape.replace(",", ", "), ""), (f"{params:,}", "num")):
            row.appendChild(_tag("td", text, cls))
    box.appendChild(table)
    box.appendChild(_tag("p", f"Total params: {model.count_params()}. Weights: {nbytes:,} bytes.", "totals"))
    box.dataset.weightBytes = str(nbytes)
    classes = (artifacts.user_defined_metadata or {}).get("classes") or CLASSES
    probs = np.asarray(model.predict(PROBE))
    _el("prediction").textContent = "Prediction: " + "; ".join(
        f"({x:g}, {y:g}) \u2192 {classes[int(p.argmax())]} {float(p.max()):.0%}" for (x, y), p in zip(PROBE, probs)
    )
    _el("prediction").dataset.classes = ",".join(classes[int(p.argmax())] for p in probs)
    for button in document.querySelectorAll("button.save"):
        button.disabled = False


async def build_toy() -> tuple[str, int]:
    size = _el("model-size").value
    if state["fitted"] is None:
        set_status("Fitting a 2-16-3 classifier on three Gaussian blobs\u2026")
        await asyncio.sleep(0)  # let the browser paint the message
        state["fitted"] = fit_classifier()
    weights, accuracy = state["fitted"]
    units = SIZES[size]
    artifacts = as_artifacts(pad_hidden(weights, units) if units > 16 else weights)
    note = f"; padded to {units:,} hidden units (the extra ones are zero: same predictions)" if units > 16 else ""
    show_model(artifacts, f"Toy classifier fitted in numpy on 180 points: training accuracy {accuracy:.1%}{note}")
    set_status("Built the toy classifier.")
    return "numpy", weight_bytes(artifacts)


async def load_example() -> tuple[str, int]:
    url = str(js.URL.new(EXAMPLE_PATH, js.location.href).href)
    artifacts = await with_progress(
        f"Loading the TF.js example from {url}", lambda cb: pyweb.aload(url, on_progress=cb)
    )
    show_model(artifacts, f"TF.js example model ({artifacts.generated_by}), loaded from {url}")
    set_status("Loaded the TF.js example model.")
    return "http", weight_bytes(artifacts)


# -- the page -----------------------------------------------------------


def _el(id_: str) -> Any:
    return document.getElementById(id_)


def _tag(name: str, text: str, cls: str = "") -> Any:
    element = document.createElement(name)
    element.textContent = text
    if cls:
        element.className = cls
    return element


def set_status(text: str) -> None:
    _el("status").textContent = text


def explain(exc: BaseException, action: str) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if action.startswith("load uploaded") and not isinstance(exc, QuotaExceededError):
        text += "\nChoose a model.json with its weights file, or a single-file download, as this page saves them."
    return text


def show_error(exc: BaseException, action: str) -> None:
    el = _el("error")
    el.textContent = f"{action[:1].upper()}{action[1:]} failed. {explain(exc, action)}"
    el.hidden = False
    js.console.error("".join(traceback.format_exception(exc)))


def clear_error() -> None:
    el = _el("error")
    el.textContent = ""
    el.hidden = True


def log(scheme: str, action: str, nbytes: int, outcome: str, ok: bool) -> None:
    entries = _el("log")
    item = document.createElement("li")
    item.dataset.scheme = scheme
    item.dataset.action = action
    item.dataset.bytes = str(nbytes)
    item.dataset.ok = "1" if ok else "0"
    item.className = "ok" if ok else "failed"
    item.textContent = (
        f"{time.strftime('%H:%M:%S')} {LABELS.get(scheme, scheme)} \u00b7 {action} \u00b7 {nbytes:,} B \u00b7 {outcome}"
    )
    entries.prepend(item)
    while entries.children.length > LOG_LIMIT:
        entries.lastElementChild.remove()
    entries.dataset.count = str(int(entries.dataset.count or 0) + 1)


def on(element: Any, event: str, scheme: str, action: str, coroutine_fn: Callable[[], Any], proxies: list[Any]) -> None:
    """Run ``coroutine_fn()`` on ``event``; it returns (scheme, bytes). One log entry either way."""

    async def guarded() -> None:
        _busy["waiting"] += 1
        document.body.dataset.busy = "1"
        try:
            async with _busy["lock"]:  # one action at a time, in click order
                clear_error()
                try:
                    done_scheme, nbytes = await coroutine_fn()
                except Exception as exc:  # noqa: BLE001 - every failure is shown on the page
                    show_error(exc, action)
                    set_status(f"{action[:1].upper()}{action[1:]} failed.")
                    log(scheme, action, 0, f"{type(exc).__name__}: {exc}", ok=False)
                    # What failed may have changed a store half-way (a move whose copy was written,
                    # a model another tab deleted): list again, so the table shows what is stored.
                    await _quietly(refresh_table())
                else:
                    log(done_scheme, action, nbytes, "ok", ok=True)
                finally:
                    hide_progress()
                    await _quietly(refresh_storage())
        finally:
            _busy["waiting"] -= 1
            document.body.dataset.busy = "1" if _busy["waiting"] else "0"

    proxy = create_proxy(lambda _event: asyncio.ensure_future(guarded()))
    element.addEventListener(event, proxy)
    proxies.append((element, event, proxy))


async def _quietly(refresh: Awaitable[Any]) -> None:
    """Await a redraw after an action; its own failure goes to the console, not over the action's."""
    try:
        await refresh
    except Exception:  # noqa: BLE001
        js.console.error(traceback.format_exc())


# -- progress -------------------------------------------------------------


async def with_progress(label: str, start: Callable[[Callable[[float], None]], Awaitable[Any]]) -> Any:
    """Await ``start(on_progress)`` with the progress bar showing ``label``.

    Handlers that report progress (http and file loads, file saves) fill the
    bar; the others leave it indeterminate until they finish.
    """
    bar, text = _el("progress"), _el("progress-label")
    bar.removeAttribute("value")
    text.textContent = label + "\u2026"
    _el("progress-box").hidden = False
    set_status(label + "\u2026")

    def on_progress(fraction: float) -> None:
        bar.value = max(0.0, min(1.0, float(fraction)))
        text.textContent = f"{label}\u2026 {fraction:.0%}"

    await asyncio.sleep(0)  # paint the bar before the work starts
    return await start(on_progress)


def hide_progress() -> None:
    _el("progress-box").hidden = True


# -- actions on the current model ------------------------------------------


async def save_to(scheme: str, *, single_file: bool = False) -> tuple[str, int]:
    if state["artifacts"] is None:
        raise RuntimeError("build or load a model first")
    name = model_name()
    options: dict[str, Any] = {}
    if scheme == "downloads":
        url = f"downloads://{name}"
        options["single_file"] = single_file
    else:
        url = store_url(scheme, name)
    label = f"Saving {url}" + (" as one file" if single_file else "")

    def start(on_progress: Callable[[float], None]) -> Awaitable[Any]:
        if scheme == "file":  # the one store whose saves report progress
            options["on_progress"] = on_progress
        return pyweb.asave(state["artifacts"], url, **options)

    result = await with_progress(label, start)
    info = result.model_artifacts_info
    status = f"Saved {url}: {info.model_topology_bytes:,} topology bytes, {info.weight_data_bytes:,} weight bytes."
    if result.delivery and result.delivery["offered"]:
        offered = ", ".join(result.delivery["offered"])
        status += f" Your browser allows one download per click: click the button at the bottom right for {offered}."
    set_status(status)
    if scheme != "downloads":
        await refresh_table()
    return scheme, info.weight_data_bytes or 0


async def upload_files() -> tuple[str, int]:
    chooser = _el("upload-input")
    files = sorted(chooser.files, key=lambda f: (not str(f.name).endswith(".json"), str(f.name)))
    if not files:
        raise ValueError("choose a model's .json file (and its .weights.bin, if it has one)")
    names = ", ".join(str(f.name) for f in files)
    try:
        artifacts = await with_progress(f"Reading {names}", lambda _cb: pyweb.aload(pyweb.browser_files(files)))
        show_model(artifacts, f"Loaded from uploaded files: {names}")
    finally:
        chooser.value = ""  # the same files can be chosen again
    set_status(f"Loaded {names}.")
    return "upload", weight_bytes(artifacts)


# -- the stored-models table -------------------------------------------------


def _drop_row_proxies() -> None:
    for element, event, proxy in _row_proxies:
        element.removeEventListener(event, proxy)
        proxy.destroy()
    _row_proxies.clear()


async def list_all() -> tuple[dict[str, Any], list[str]]:
    """Every stored model, and a message per store that could not be listed."""
    found: dict[str, Any] = {}
    problems: list[str] = []
    sources = [("browser storage", None), ("file", f"file://{FILE_ROOT}")]
    if state["server"]:
        sources.append(("upload server", state["server"]))
    for label, url in sources:
        try:
            found.update(await (pyweb.alist_models(url) if url else pyweb.alist_models()))
        except Exception as exc:  # noqa: BLE001 - one broken store must not hide the others
            problems.append(f"{label}: {type(exc).__name__}: {exc}")
    return found, problems


async def refresh_table() -> None:
    models, problems = await list_all()
    _drop_row_proxies()
    body = document.querySelector("#models tbody")
    body.replaceChildren()
    names = {url: split_url(url) for url in models}
    for url in sorted(models, key=lambda u: (STORES.index(names[u][0]) if names[u][0] in STORES else len(STORES), u)):
        info = models[url]
        scheme, name = names[url]
        row = document.createElement("tr")
        row.dataset.url = url
        row.dataset.scheme = scheme
        row.dataset.name = name
        cells = [
            ("scheme", "Scheme", scheme),
            ("name", "Name", name),
            ("date", "Saved", info.date_saved.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
            ("topology-bytes num", "Topology bytes", f"{info.model_topology_bytes or 0}"),
            ("weight-bytes num", "Weight bytes", f"{info.weight_data_bytes or 0}"),
        ]
        for cls, label, text in cells:
            td = _tag("td", text, cls)
            td.dataset.label = label
            row.appendChild(td)
        row.appendChild(_row_actions(url, scheme, name))
        body.appendChild(row)
    _el("models-empty").hidden = bool(models)
    _el("models").dataset.count = str(len(models))
    if problems:
        _el("list-problems").textContent = "Could not list " + "; ".join(problems)
        _el("list-problems").hidden = False
    else:
        _el("list-problems").hidden = True


def _transfer_on_click(
    fn: Callable[[str, str], Awaitable[Any]], verb: str, url: str, name: str, select: Any
) -> Callable[[], Awaitable[tuple[str, int]]]:
    """The row button's action: ``transfer`` to the store chosen in ``select`` when clicked."""
    return lambda: transfer(fn, verb, url, name, select.value)


def _row_actions(url: str, scheme: str, name: str) -> Any:
    cell = document.createElement("td")
    cell.className = "row-actions"
    cell.dataset.label = "Actions"
    buttons = document.createElement("div")
    buttons.className = "row-buttons"
    cell.appendChild(buttons)
    load = document.createElement("button")
    load.textContent = "Load"
    load.className = "load"
    on(load, "click", scheme, f"load {name}", lambda: load_model(url), _row_proxies)
    target = document.createElement("select")
    target.className = "target"
    target.setAttribute("aria-label", f"Copy or move {name} to")
    for other in STORES:
        if other != scheme and (other != "http" or state["server"]):
            option = document.createElement("option")
            option.value = other
            option.textContent = f"to {other}"
            target.appendChild(option)
    buttons.appendChild(load)
    buttons.appendChild(target)
    for label, fn in (("Copy", pyweb.acopy_model), ("Move", pyweb.amove_model)):
        button = document.createElement("button")
        button.textContent = label
        button.className = label.lower()
        on(
            button,
            "click",
            scheme,
            f"{label.lower()} {name}",
            _transfer_on_click(fn, label, url, name, target),
            _row_proxies,
        )
        buttons.appendChild(button)
    delete = document.createElement("button")
    delete.textContent = "Delete"
    delete.className = "delete"
    on(delete, "click", scheme, f"delete {name}", lambda: delete_model(url), _row_proxies)
    buttons.appendChild(delete)
    return cell


async def load_model(url: str) -> tuple[str, int]:
    scheme = split_url(url)[0]
    progress = scheme in ("http", "file")
    artifacts = await with_progress(
        f"Loading {url}", lambda cb: pyweb.aload(url, on_progress=cb) if progress else pyweb.aload(url)
    )
    show_model(artifacts, f"Loaded from {url}")
    set_status(f"Loaded {url}.")
    return scheme, weight_bytes(artifacts)


async def transfer(
    fn: Callable[[str, str], Awaitable[Any]], verb: str, url: str, name: str, target: str
) -> tuple[str, int]:
    dst = store_url(target, name)
    info = await with_progress(f"{verb[:-1]}ing {url} to {dst}", lambda _cb: fn(url, dst))
    set_status(f"{verb.rstrip('e')}ed {url} to {dst}.")
    await refresh_table()
    return target, info.weight_data_bytes or 0


async def delete_model(url: str) -> tuple[str, int]:
    info = await pyweb.aremove_model(url)
    set_status(f"Deleted {url}.")
    await refresh_table()
    return split_url(url)[0], info.weight_data_bytes or 0


# -- storage meters --------------------------------------------------------------


async def refresh_storage() -> None:
    used = int(js.localStorageUnits())  # meters.js: counted in the page, the text stays there
    unit = "bytes" if js.localStorageEngine() == "webkit" else "characters"  # what the quota counts
    _el("ls-meter").value = used
    _el("ls-used").textContent = f"{used:,}"
    _el("ls-used").dataset.chars = str(used)
    _el("ls-used").dataset.unit = unit
    _el("ls-unit").textContent = unit
    estimate_el = _el("storage-used")
    if not hasattr(js.navigator, "storage") or not hasattr(js.navigator.storage, "estimate"):
        # WebKit (Safari) has no navigator.storage: say so, rather than show an empty meter.
        estimate_el.textContent = "no storage estimate: this browser has no navigator.storage"
        estimate_el.dataset.usage = "none"
        _el("storage-meter").hidden = True
        return
    estimate = await js.navigator.storage.estimate()
    usage, quota = int(estimate.usage or 0), int(estimate.quota or 0)
    _el("storage-meter").max = max(quota, 1)
    _el("storage-meter").value = usage
    estimate_el.textContent = f"{usage / 1e6:,.1f} MB of {quota / 1e6:,.0f} MB"
    estimate_el.dataset.usage = str(usage)
    estimate_el.dataset.quota = str(quota)


# -- start ---------------------------------------------------------------------


def _bind_static() -> None:
    def bind(id_: str, scheme: str, action: str, fn: Callable[[], Any], event: str = "click") -> None:
        on(_el(id_), event, scheme, action, fn, _static_proxies)

    bind("build-toy", "numpy", "fit toy classifier", build_toy)
    bind("load-example", "http", "load TF.js example", load_example)
    for scheme in STORES:
        bind(f"save-{scheme}", scheme, f"save to {LABELS[scheme]}", functools.partial(save_to, scheme))
    bind("save-downloads", "downloads", "save (model.json + weights.bin)", lambda: save_to("downloads"))
    bind("save-downloads-single", "downloads", "save (one file)", lambda: save_to("downloads", single_file=True))
    bind("upload-input", "upload", "load uploaded files", upload_files, event="change")
    bind("refresh", "all", "refresh list", _refresh_action)
    if not state["server"]:
        _el("save-http").title = "Open the page through `pyweb demo` to get the upload server."


async def _refresh_action() -> tuple[str, int]:
    await refresh_table()
    return "all", 0


async def main() -> None:
    query = parse_qs(str(js.location.search).lstrip("?"))
    state["server"] = (query.get("server") or [""])[0].rstrip("/") or None
    os.makedirs(FILE_ROOT, exist_ok=True)
    _bind_static()
    document.body.dataset.busy = "1"
    try:
        await build_toy()
        for button in document.querySelectorAll("button:not(.save)"):
            button.disabled = False
        _el("upload-input").disabled = False
        try:
            await refresh_table()
        except Exception as exc:  # noqa: BLE001
            show_error(exc, "Listing stored models")
        await refresh_storage()
        server = f"; upload server {state['server']}" if state["server"] else "; no upload server"
        set_status(f"Ready (pyweb {pyweb.__version__}{server}).")
        document.body.dataset.state = "ready"
    finally:
        document.body.dataset.busy = "0"
