"""A WebKitGTK browser for WebKitWebDriver whose IndexedDB quota is set at launch.

Run by ``WebKitWebDriver`` (capability ``webkitgtk:browserOptions``:
``{"binary": "/usr/bin/python3", "args": [this file, "--automation", ...]}``)
under Debian's ``/usr/bin/python3``, which has PyGObject (``python3-gi``) and
WebKitGTK's introspection data (``gir1.2-webkit2-4.1``); pyweb's venv has
neither, and this file imports nothing of pyweb's. It does what
``MiniBrowser --automation`` does for a WebDriver session (allow automation,
name the application, hand the session a web view controlled by automation
in a window of its own) with one difference: its ``WebKitWebsiteDataManager``
keeps its data in ``--data-dir`` with an ``origin-storage-ratio`` (and
``total-storage-ratio``) the harness chooses. WebKitGTK's quota for an origin
is that ratio times the capacity of the volume holding the data folder
(``os.statvfs``: ``f_blocks * f_frsize``), so ``--origin-storage-ratio`` is
``quota_bytes / capacity`` (see :mod:`pyweb.testing.quota` for what was
measured with it).

WebKitWebDriver connects to the browser through the remote inspector server
it names in the environment (``WEBKIT_INSPECTOR_SERVER``), which WebKitGTK
starts once automation is allowed; nothing here handles that.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

APPLICATION = "pyweb-webkit"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="webkit_browser",
        description="A WebKitGTK browser for WebKitWebDriver whose storage quota is set at launch.",
    )
    parser.add_argument("--automation", action="store_true", help="serve WebKitWebDriver (required)")
    parser.add_argument("--data-dir", required=True, help="the website data folder (IndexedDB, localStorage...)")
    parser.add_argument("--cache-dir", help="the cache folder (default: DATA_DIR/cache)")
    parser.add_argument(
        "--origin-storage-ratio",
        type=float,
        default=-1.0,
        help="an origin's quota as a fraction of the data volume's capacity (-1: WebKit's default)",
    )
    parser.add_argument(
        "--total-storage-ratio",
        type=float,
        default=-1.0,
        help="all origins' quota as a fraction of the data volume's capacity (-1: WebKit's default)",
    )
    # WebKitWebDriver may pass an initial URL after the options (MiniBrowser takes one).
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if not args.automation:
        print("webkit_browser: only --automation (a WebKitWebDriver session) is supported", file=sys.stderr)
        return 2

    import gi

    gi.require_version("Gtk", "3.0")
    gi.require_version("WebKit2", "4.1")
    from gi.repository import Gtk, WebKit2

    Gtk.init(None)
    manager = WebKit2.WebsiteDataManager(
        base_data_directory=args.data_dir,
        base_cache_directory=args.cache_dir or f"{args.data_dir}/cache",
        origin_storage_ratio=args.origin_storage_ratio,
        total_storage_ratio=args.total_storage_ratio,
    )
    context = WebKit2.WebContext(website_data_manager=manager)
    context.set_automation_allowed(True)
    windows: list[Any] = []

    def create_web_view(session: Any) -> Any:
        view = WebKit2.WebView(web_context=context, is_controlled_by_automation=True)
        window = Gtk.Window()
        window.set_default_size(1280, 900)
        window.add(view)
        view.connect("close", lambda *_: window.destroy())
        window.connect("destroy", lambda *_: windows.remove(window) if window in windows else None)
        window.show_all()
        windows.append(window)
        return view

    def automation_started(_context: Any, session: Any) -> None:
        info = WebKit2.ApplicationInfo()
        info.set_name(APPLICATION)
        info.set_version(1, 0, 0)
        session.set_application_info(info)
        session.connect("create-web-view", create_web_view)

    context.connect("automation-started", automation_started)
    # WebKitWebDriver ends a session by closing its browsing contexts, then this process.
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
