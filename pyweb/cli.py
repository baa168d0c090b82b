"""The ``pyweb`` command: inspect, convert, list, copy, move, remove and serve models.

A thin argparse layer over :mod:`pyweb.api` (and :func:`pyweb.server.serve`,
:mod:`pyweb.demo`); it never touches a handler directly. Arguments without a
scheme are paths, as ``file://`` URLs. Every failure is one line on stderr,
``pyweb: error: ...``, with exit status 1 (2 for usage errors and for a demo
that cannot start, 130 for Ctrl-C).

Examples
--------
::

    pyweb inspect ./my-model
    pyweb convert ./my-model ./small --quantize uint8 --shard-bytes 4194304
    pyweb ls /srv/models
    pyweb cp ./my-model s3://bucket/models/m -o endpoint_url=http://127.0.0.1:9000 -o anon=false
    pyweb clean /srv/models
    pyweb serve /srv/models --port 8000
    pyweb demo --pyodide https://cdn.jsdelivr.net/pyodide/v0.27.7/full/
    pyweb lite --serve
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from . import __version__, api
from .artifacts import FIELDS, js_dumps, manifest_paths
from .errors import PyWebError
from .types import ModelArtifacts
from .urls import parse_url

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pyweb`` command line; returns the exit status.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    pyweb 0.1.0
    0
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (2)
        return int(exc.code or 0)
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `pyweb ls | head`
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 1
    except Exception as exc:  # noqa: BLE001 - one line, no traceback, whatever went wrong
        print(f"{parser.prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return text if isinstance(exc, PyWebError) else f"{type(exc).__name__}: {text}"


# -- argument parsing -------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyweb",
        description="Save, load and manage TensorFlow.js models. "
        "URLs are scheme://path (file://, http(s)://, memory://); a plain path means file://.",
    )
    parser.add_argument("--version", action="version", version=f"pyweb {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    stores = _storage_options_parser()

    p = sub.add_parser("inspect", help="show a model's metadata, weights and files", parents=[stores])
    p.add_argument("url", metavar="URL")
    p.set_defaults(run=_inspect)

    p = sub.add_parser("convert", help="load SRC and save it to DST, optionally quantized or sharded", parents=[stores])
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("--quantize", choices=["uint8", "uint16", "float16"], help="store float32 weights quantized")
    p.add_argument("--shard-bytes", type=_positive_int, metavar="N", help="cut weights into files of N bytes")
    p.add_argument("--integrity", action="store_true", help="record a sha256 per weight file")
    p.set_defaults(run=_convert)

    p = sub.add_parser("ls", help="list models (default: under the current directory)", parents=[stores])
    p.add_argument("url", metavar="URL", nargs="?", default=None)
    p.set_defaults(run=_ls)

    for name, verb, run in (("cp", "copy", _cp), ("mv", "move", _mv)):
        p = sub.add_parser(name, help=f"{verb} a model from SRC to DST (any two schemes)", parents=[stores])
        p.add_argument("src", metavar="SRC")
        p.add_argument("dst", metavar="DST")
        p.set_defaults(run=run)

    p = sub.add_parser("rm", help="remove a model", parents=[stores])
    p.add_argument("url", metavar="URL")
    p.set_defaults(run=_rm)

    p = sub.add_parser("clean", help="remove what killed file:// saves left behind (.pywebtmp-*) under DIR")
    p.add_argument("root", metavar="DIR", nargs="?", default=".")
    p.set_defaults(run=_clean)

    p = sub.add_parser("serve", help="serve a directory of models over HTTP (and accept uploads)")
    p.add_argument("root", metavar="DIR")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s; 0 picks a free one)")
    cors = p.add_mutually_exclusive_group()
    cors.add_argument(
        "--cors", metavar="ORIGIN", default="*", help="Access-Control-Allow-Origin (default: %(default)s)"
    )
    cors.add_argument("--no-cors", dest="cors", action="store_const", const=None, help="send no CORS headers")
    p.add_argument(
        "--token", metavar="T", help="require 'Authorization: Bearer T' on every request (but CORS preflights)"
    )
    p.add_argument("--max-body", type=_positive_int, metavar="BYTES", help="largest upload accepted (default: 1 GiB)")
    p.set_defaults(run=_serve)

    p = sub.add_parser("lite", help="build a JupyterLite site with pyweb preinstalled (and serve it)")
    p.add_argument("--output", metavar="DIR", default=".lite/site", help="where the site goes (default: %(default)s)")
    p.add_argument(
        "--pyodide-dir", metavar="DIR", help="a full Pyodide 0.27 (default: the checkout's, from the config)"
    )
    p.add_argument(
        "--wheels", metavar="DIR", help="extra wheels for the kernel (default: the checkout's .assets/lite-wheels)"
    )
    p.add_argument(
        "--notebook", metavar="IPYNB", action="append", help="notebooks to include (default: pyweb's example)"
    )
    p.add_argument("--serve", action="store_true", help="then serve the site on 127.0.0.1 until Ctrl-C")
    p.add_argument("--port", type=int, default=8765, help="with --serve (default: %(default)s)")
    p.set_defaults(run=_lite)

    p = sub.add_parser("demo", help="serve the demo page and a model server (--headless: click through it)")
    p.add_argument("--port", type=int, default=0, help="the page's port (default: a free one)")
    p.add_argument("--models-dir", metavar="DIR", help="where http:// saves go (default: a temporary folder)")
    p.add_argument("--pyodide", metavar="URL", help="load Pyodide from this indexURL (e.g. a CDN) instead of locally")
    p.add_argument("--pyodide-dir", metavar="DIR", help="a local Pyodide 0.27.7 (default: from the config)")
    p.add_argument("--page-dir", metavar="DIR", help="the folder holding index.html (default: the packaged page)")
    p.add_argument(
        "--config", metavar="PATH", help="browser config (default: the checkout's, else pyweb.demo.browsers)"
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="click through every action in a headless browser (webkit: on a virtual display, Xvfb; "
        "WebKitGTK has no headless mode)",
    )
    p.add_argument(
        "--browser",
        choices=["chromium", "firefox", "webkit"],
        default="chromium",
        help="with --headless (webkit: WebKitGTK over WebDriver, with Selenium)",
    )
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="with --headless: the whole walkthrough's budget")
    p.set_defaults(run=_demo)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _storage_options_parser() -> argparse.ArgumentParser:
    """``-o KEY=VALUE`` and ``--storage-options-json``: fsspec's ``storage_options`` for object-store URLs."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("object stores (s3://, gs://, az://, fsspec://URL)")
    group.add_argument(
        "-o",
        "--storage-option",
        dest="storage_option",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        type=_storage_option,
        help="an fsspec storage option for every object-store URL here (repeatable); VALUE is JSON when it "
        "parses as JSON (true, 3, {...}), else a string; KEY may be dotted: client_kwargs.region_name=eu-west-1",
    )
    group.add_argument(
        "--storage-options-json",
        metavar="JSON",
        type=_storage_options_json,
        help="the storage options as one JSON object; -o options are applied on top",
    )
    return parent


def _storage_option(text: str) -> tuple[list[str], Any]:
    key, sep, raw = text.partition("=")
    path = key.strip().split(".")
    if not sep or not all(path):
        raise argparse.ArgumentTypeError(f"not KEY=VALUE: {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return path, value


def _storage_options_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"not a JSON object: {text!r}")
    return value


def _storage_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = dict(args.storage_options_json or {})
    for path, value in args.storage_option:
        here = options
        for part in path[:-1]:
            if not isinstance(here.get(part), dict):
                here[part] = {}
            here = here[part]
        here[path[-1]] = value
    return options


def _store_options(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """``{"storage_options": ...}`` if the command has some and ``url`` is an object store, else ``{}``."""
    options = _storage_options(args)
    if not options:
        return {}
    from .handlers.object_store import FsspecHandler  # needs fsspec, as storage options do
    from .registry import get_factory

    factory = get_factory(parse_url(url).scheme)
    if isinstance(factory, type) and issubclass(factory, FsspecHandler):
        return {"storage_options": options}
    return {}


def _url(text: str) -> str:
    """``text`` as a URL: a plain path (no ``scheme://``) becomes ``file://`` + path."""
    return str(parse_url(text, default_scheme="file", allow_empty_path=True))


# -- commands ----------------------------------------------------------------------


def _inspect(args: argparse.Namespace) -> None:
    url = _url(args.url)
    artifacts = _load(url, _store_options(args, url))
    out = sys.stdout
    print(f"{'url:':<14}{url}", file=out)
    head, extras = FIELDS[1:4], FIELDS[4:]
    for attr, key in head:
        value = getattr(artifacts, attr)
        shown = "(absent)" if value is None and (key in artifacts.absent_keys or key != "convertedBy") else value
        print(f"{key + ':':<14}{'null' if shown is None else shown}", file=out)
    print(f"{'topology:':<14}{_topology_summary(artifacts.model_topology)}", file=out)
    present = [key for attr, key in extras if getattr(artifacts, attr) is not None]
    if present:
        print(f"{'also:':<14}{', '.join(present)}", file=out)
    _print_weights(artifacts, out)
    _print_shards(artifacts, out)


def _topology_summary(topology: Any) -> str:
    if topology is None:
        return "(none)"
    if isinstance(topology, (bytes, bytearray, memoryview)):
        return f"binary, {memoryview(topology).nbytes} bytes"
    kind = topology.get("class_name") if isinstance(topology, dict) else None
    size = len(js_dumps(topology).encode("utf-8", "surrogatepass"))
    return f"JSON, {size} bytes" + (f" ({kind})" if kind else "")


def _print_weights(artifacts: ModelArtifacts, out: Any) -> None:
    from .weights import weights_nbytes  # pure: sizes only, no numpy

    specs = artifacts.weight_specs
    if specs is None:
        print("weights:      (none)", file=out)
        return
    data = artifacts.weight_bytes()
    rows: list[tuple[str, ...]] = []
    offset = params = 0
    for spec in specs:
        nbytes = weights_nbytes([spec], data[offset:])
        offset += nbytes
        quant = spec.get("quantization") or {}
        params += math.prod(spec["shape"])
        rows.append((spec["name"], _shape(spec["shape"]), spec["dtype"], quant.get("dtype", "-"), str(nbytes)))
    _table(["NAME", "SHAPE", "DTYPE", "STORED", "BYTES"], rows, out, right={4})
    print(f"total: {len(specs)} weights, {params} parameters, {data.nbytes} bytes", file=out)
    if offset != data.nbytes:
        print(f"warning: the specs cover {offset} bytes but the data holds {data.nbytes}", file=out)


def _shape(shape: list[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _print_shards(artifacts: ModelArtifacts, out: Any) -> None:
    manifest = artifacts.weights_manifest
    if not manifest:
        return
    data = artifacts.weight_data
    paths = manifest_paths(manifest)
    sizes: list[int] | None
    sizes = [memoryview(p).nbytes for p in data] if isinstance(data, list) else [artifacts.weight_bytes().nbytes]
    if len(sizes) != len(paths):
        sizes = None  # shards were joined on load: per-file sizes unknown
    print(f"{'shards:':<14}{len(paths)} file(s)", file=out)
    k = 0
    for g, group in enumerate(manifest, 1):
        for rel in group["paths"]:
            size = f"  ({sizes[k]} bytes)" if sizes is not None else ""
            print(f"  group {g}  {rel}{size}", file=out)
            k += 1


def _convert(args: argparse.Namespace) -> None:
    src, dst = _url(args.src), _url(args.dst)
    artifacts = _load(src, _store_options(args, src))
    options: dict[str, Any] = _store_options(args, dst)
    if args.shard_bytes is not None:
        options["shard_bytes"] = args.shard_bytes
    if args.integrity:
        options["integrity"] = True
    takes = api.handler_options(dst, "save")
    refused = sorted(set(options) - takes)
    if refused:
        flags = ", ".join("--" + name.replace("_", "-") for name in refused)
        raise PyWebError(f"{dst} does not take {flags}")
    with _bar("save", "on_progress" in takes) as progress:
        if progress is not None:
            options["on_progress"] = progress
        info = api.save(artifacts, dst, quantize=args.quantize, **options).model_artifacts_info
    print(f"saved {dst} ({info.weight_data_bytes} weight bytes)")


def _ls(args: argparse.Namespace) -> None:
    url = _url(args.url) if args.url else "file://"
    models = api.list_models(url, **_store_options(args, url))
    rows = [
        (url, _date(info.date_saved), _num(info.model_topology_bytes), _num(info.weight_data_bytes))
        for url, info in models.items()
    ]
    _table(["URL", "DATE", "TOPOLOGY", "WEIGHTS"], rows, sys.stdout, right={2, 3})


def _date(when: Any) -> str:
    if isinstance(when, str):
        return when
    if isinstance(when, _dt.datetime):
        moment: _dt.datetime = when.astimezone(_dt.UTC) if when.tzinfo else when
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return "-"


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def _cp(args: argparse.Namespace) -> None:
    src, dst = _url(args.src), _url(args.dst)
    api.copy_model(src, dst, src_options=_store_options(args, src), dst_options=_store_options(args, dst))
    print(f"copied {src} -> {dst}")


def _mv(args: argparse.Namespace) -> None:
    src, dst = _url(args.src), _url(args.dst)
    api.move_model(src, dst, src_options=_store_options(args, src), dst_options=_store_options(args, dst))
    print(f"moved {src} -> {dst}")


def _rm(args: argparse.Namespace) -> None:
    url = _url(args.url)
    api.remove_model(url, **_store_options(args, url))
    print(f"removed {url}")


def _clean(args: argparse.Namespace) -> None:
    from .handlers.file import remove_leftovers

    removed = remove_leftovers(args.root)
    for path in removed:
        print(f"removed {path}")
    print(f"removed {len(removed)} leftover folder(s) under {args.root}")


def _serve(args: argparse.Namespace) -> None:
    from .server import serve

    if not os.path.isdir(args.root):
        raise PyWebError(f"{args.root} is not a directory")
    options: dict[str, Any] = {} if args.max_body is None else {"max_body_bytes": args.max_body}
    serve(args.root, host=args.host, port=args.port, cors_origin=args.cors, token=args.token, **options)


def _lite(args: argparse.Namespace) -> int:

    from . import lite
    from .demo import PAGE_DIR

    checkout = Path(__file__).resolve().parents[1]
    pyodide = Path(args.pyodide_dir) if args.pyodide_dir else _config_pyodide(checkout)
    wheels_dir = Path(args.wheels) if args.wheels else checkout / ".assets" / "lite-wheels"
    extra = sorted(wheels_dir.glob("*.whl")) if wheels_dir.is_dir() else []
    if not any(w.name.startswith("comm-") for w in extra):
        raise PyWebError(f"no comm wheel in {wheels_dir}: pip download --no-deps comm==0.2.3 -d {wheels_dir}")
    if not (checkout / "pyproject.toml").is_file():
        raise PyWebError("pyweb lite builds pyweb's wheel from a source checkout; this pyweb is not one")
    tfjs = checkout / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"
    files = [p for p in (tfjs, PAGE_DIR / "examples" / "tfjs-blobs") if p.exists()]
    notebooks = [Path(n) for n in args.notebook] if args.notebook else [lite.EXAMPLE_NOTEBOOK]
    with tempfile.TemporaryDirectory(prefix="pyweb-wheel-") as tmp:
        wheel = lite.build_wheel(checkout, Path(tmp))
        site = lite.build_site(
            Path(args.output), pyodide_dir=pyodide, wheels=[wheel, *extra], notebooks=notebooks, files=files
        )
    print(f"built a JupyterLite site with pyweb in {site}")
    if not args.serve:
        print(f"serve it over http (pyweb lite --serve), then open notebooks/index.html?path={notebooks[0].name}")
        return 0
    from .testing.server import StaticServer

    with StaticServer({"/": site}, port=args.port) as server:
        return _serve_until_ctrl_c("pyweb lite", f"{server.origin}/lab/index.html?path={notebooks[0].name}")


def _config_pyodide(checkout: Path) -> Path:
    from .testing.config import load_config

    config = load_config(checkout / "playwright.config.py")
    build = config.builds.get("0.27.7")
    if build is None or build.path is None:
        raise PyWebError("no local Pyodide 0.27.7 in playwright.config.py: pass --pyodide-dir")
    return build.path


def _demo(args: argparse.Namespace) -> int:
    from .demo.server import DemoServer
    from .testing.config import ConfigError

    try:
        server = DemoServer(
            port=args.port,
            page_dir=args.page_dir,
            pyodide_dir=args.pyodide_dir,
            pyodide_url=args.pyodide,
            models_dir=args.models_dir,
            config_path=args.config,
        ).start()
    except (OSError, ConfigError) as exc:  # missing page or Pyodide, port taken, bad config
        print(f"pyweb: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    with server:
        if args.headless:
            from .demo import walkthrough  # drives a browser: imported only when asked to

            # No --timeout: the walkthrough's own default budget.
            options = {} if args.timeout is None else {"timeout": args.timeout}
            try:
                return walkthrough.run(
                    server.page_url, browser=args.browser, config_path=args.config, out=sys.stdout, **options
                )
            except RuntimeError as exc:  # no Playwright, no browser
                print(f"pyweb: error: {_one_line(exc)}", file=sys.stderr)
                return 2
        return _serve_until_ctrl_c("pyweb demo", server.page_url)


def _serve_until_ctrl_c(command: str, url: str) -> int:
    print(f"{command}: open {url}", flush=True)
    print(f"{command}: press Ctrl+C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


# -- helpers -----------------------------------------------------------------------


def _load(url: str, options: dict[str, Any]) -> ModelArtifacts:
    with _bar("load", "on_progress" in api.handler_options(url, "load")) as progress:
        if progress is None:
            return api.load(url, **options)
        return api.load(url, on_progress=progress, **options)


@contextlib.contextmanager
def _bar(desc: str, supported: bool) -> Iterator[Callable[[float], None] | None]:
    """A tqdm bar fed with fractions, or None when not a TTY or tqdm is missing."""
    if not supported or not sys.stderr.isatty():
        yield None
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield None
        return
    bar = tqdm(
        total=1000, desc=desc, leave=False, file=sys.stderr, bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}"
    )

    def advance(fraction: float) -> None:
        bar.update(max(0, round(fraction * 1000) - bar.n))

    try:
        yield advance
    finally:
        bar.close()


def _table(
    header: list[str], rows: Sequence[tuple[str, ...]], out: Any, *, right: AbstractSet[int] = frozenset()
) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip(), file=out)
