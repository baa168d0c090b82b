"""The Python that drives demo/index.html, run in Pyodide.

index.html boots Pyodide, loads numpy, unpacks the pyweb bundle and calls
:func:`main`. Everything else (fitting the classifier, saving, listing,
loading and deleting models, the storage meter, error messages) happens here
through the DOM (``js``) with event listeners wrapped by ``create_proxy``.
"""

from __future__ import annotations

import asyncio
import traceback

import js
import numpy as np
from pyodide.ffi import create_proxy

import pyweb
from demo_toy_model import CLASSES, as_artifacts, fit_classifier, predict

MODEL_NAME = "demo-classifier"
LOCALSTORAGE_LIMIT = 5_242_880
SCHEMES = {"localstorage": "localStorage", "indexeddb": "IndexedDB"}

document = js.document
state: dict = {"weights": None, "artifacts": None}
_static_proxies: list = []  # live as long as the page
_row_proxies: list = []  # replaced each time the table is drawn


# -- the model ----------------------------------------------------------


def summary(weights: dict[str, np.ndarray]) -> str:
    rows = [("Layer (type)", "Output shape", "Param #")]
    rows.append(
        (
            "dense_Dense1 (Dense, relu)",
            "[null,16]",
            str(weights["dense_Dense1/kernel"].size + weights["dense_Dense1/bias"].size),
        )
    )
    rows.append(
        (
            "dense_Dense2 (Dense, softmax)",
            "[null,3]",
            str(weights["dense_Dense2/kernel"].size + weights["dense_Dense2/bias"].size),
        )
    )
    total = sum(v.size for v in weights.values())
    lines = [f"{a:<32}{b:<14}{c:>8}" for a, b, c in rows]
    lines.insert(1, "-" * 54)
    lines.append("-" * 54)
    lines.append(f"Total params: {total}  ({sum(v.nbytes for v in weights.values())} bytes of float32)")
    return "\n".join(lines)


def show_model(weights: dict[str, np.ndarray], source: str) -> None:
    state["weights"] = weights
    state["artifacts"] = as_artifacts(weights)
    _el("summary").textContent = f"{source}\n\n{summary(weights)}"
    points = np.array([[0, 2], [-2, -1], [2, -1]], np.float32)
    probs = predict(weights, points)
    text = "; ".join(
        f"({x:g}, {y:g}) \u2192 {CLASSES[int(p.argmax())]} {float(p.max()):.0%}" for (x, y), p in zip(points, probs)
    )
    _el("prediction").textContent = "Prediction: " + text


# -- the page -----------------------------------------------------------


def _el(id_: str):
    return document.getElementById(id_)


def set_status(text: str) -> None:
    _el("status").textContent = text


def show_error(exc: BaseException, action: str) -> None:
    el = _el("error")
    el.textContent = f"{action} failed: {type(exc).__name__}: {exc}"
    el.hidden = False
    js.console.error("".join(traceback.format_exception(exc)))


def clear_error() -> None:
    el = _el("error")
    el.textContent = ""
    el.hidden = True


def on(element, event: str, action: str, coroutine_fn, proxies: list) -> None:
    """Run ``coroutine_fn()`` on ``event``; any exception lands in #error."""

    async def guarded() -> None:
        document.body.dataset.busy = "1"
        try:
            clear_error()
            await coroutine_fn()
        except Exception as exc:  # noqa: BLE001 - every failure is shown on the page
            show_error(exc, action)
        finally:
            document.body.dataset.busy = "0"

    proxy = create_proxy(lambda _event: asyncio.ensure_future(guarded()))
    element.addEventListener(event, proxy)
    proxies.append((element, event, proxy))


def _drop_row_proxies() -> None:
    for element, event, proxy in _row_proxies:
        element.removeEventListener(event, proxy)
        proxy.destroy()
    _row_proxies.clear()


def update_meter() -> None:
    storage = js.localStorage
    used = 0
    for i in range(storage.length):
        key = storage.key(i)
        used += len(key) + len(storage.getItem(key) or "")
    _el("ls-meter").value = used
    _el("ls-used").textContent = f"{used:,}"
    _el("ls-used").dataset.chars = str(used)


async def refresh_table() -> None:
    models = await pyweb.alist_models()
    _drop_row_proxies()
    body = document.querySelector("#models tbody")
    body.replaceChildren()
    for url in sorted(models):
        info = models[url]
        scheme, _, name = url.partition("://")
        row = document.createElement("tr")
        row.dataset.url = url
        cells = [
            ("scheme", SCHEMES.get(scheme, scheme)),
            ("name", name),
            ("date", info.date_saved.strftime("%Y-%m-%d %H:%M:%S")),
            ("topology-bytes num", str(info.model_topology_bytes or 0)),
            ("weight-bytes num", str(info.weight_data_bytes or 0)),
        ]
        for cls, text in cells:
            td = document.createElement("td")
            td.className = cls
            td.textContent = text
            row.appendChild(td)
        actions = document.createElement("td")
        actions.className = "row-actions"
        for label, handler in (("Load", load_model), ("Delete", delete_model)):
            button = document.createElement("button")
            button.textContent = label
            button.className = label.lower()
            on(button, "click", f"{label} {url}", (lambda h=handler, u=url: h(u)), _row_proxies)
            actions.appendChild(button)
        row.appendChild(actions)
        body.appendChild(row)
    _el("models-empty").hidden = bool(models)
    update_meter()


async def save_to(scheme: str) -> None:
    url = f"{scheme}://{MODEL_NAME}"
    set_status(f"Saving {url}\u2026")
    result = await pyweb.asave(state["artifacts"], url)
    info = result.model_artifacts_info
    set_status(f"Saved {url}: {info.model_topology_bytes} topology bytes, {info.weight_data_bytes} weight bytes.")
    await refresh_table()


async def load_model(url: str) -> None:
    set_status(f"Loading {url}\u2026")
    artifacts = await pyweb.aload(url)
    weights = pyweb.decode_weights(artifacts.weight_data, artifacts.weight_specs)
    show_model(weights, f"Loaded from {url}")
    set_status(f"Loaded {url}.")


async def delete_model(url: str) -> None:
    await pyweb.aremove_model(url)
    set_status(f"Deleted {url}.")
    await refresh_table()


async def main() -> None:
    set_status("Fitting a 2-16-3 classifier on three Gaussian blobs\u2026")
    await asyncio.sleep(0)  # let the browser paint the message
    weights, accuracy = fit_classifier()
    show_model(weights, f"Fitted in numpy on 180 points: training accuracy {accuracy:.1%}")
    for scheme, label in SCHEMES.items():
        button = _el(f"save-{scheme}")
        on(button, "click", f"Save to {label}", (lambda s=scheme: save_to(s)), _static_proxies)
        button.disabled = False
    try:
        await refresh_table()
    except Exception as exc:  # noqa: BLE001
        show_error(exc, "Listing stored models")
    set_status(f"Ready (pyweb {pyweb.__version__}).")
    document.body.dataset.state = "ready"
