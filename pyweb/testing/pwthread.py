"""Playwright's sync API in a thread of its own, reached through proxies.

Playwright's sync API runs an asyncio loop in the thread that starts it and,
between calls, leaves that loop marked as the thread's running loop: in that
thread ``asyncio.run`` (and pyweb's sync verbs, which use it) would fail with
"cannot be called from a running event loop". Its objects are also bound (by
greenlets) to that thread. So the harness starts Playwright in a
:class:`PlaywrightThread` and hands out proxies instead of Playwright's
objects:

- a call on a proxy (``page.evaluate("1")``, ``page.context.new_page()``)
  runs in the Playwright thread; a Playwright object it returns comes back as
  a proxy (also inside lists, tuples and dicts), a plain value as it is;
- proxies passed as arguments are unwrapped there, and a callback
  (``page.on("console", cb)``) is called in the Playwright thread with proxied
  arguments;
- ``with page.expect_download() as info: ...`` works (the proxy has
  ``__enter__``/``__exit__``), and ``info.value`` is a proxied Download;
- an exception reaches the caller unchanged (Playwright's ``TimeoutError`` is
  still a ``playwright.sync_api.TimeoutError``);
- a call made in the Playwright thread itself (an event callback, or code run
  with :func:`call_in_thread`) runs directly;
- a caller interrupted while it waits (Ctrl+C, a signal-based timeout) gets its
  ``KeyboardInterrupt`` at once; the interrupted call is cancelled in the
  Playwright thread, which then serves the next call (the session's clean-up).

Events reach callbacks only while the Playwright thread is inside a call, as
with the plain sync API (``page.wait_for_timeout`` pumps them). Each call costs
a hop between threads (tens of microseconds; see CONTRIBUTING.md).
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["PlaywrightThread", "call_in_thread", "unwrap"]

_T = TypeVar("_T")


class _Job:
    __slots__ = ("args", "done", "error", "fn", "kwargs", "running", "tasks_before", "value")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.running = False
        self.tasks_before: set[asyncio.Task[Any]] = set()


class PlaywrightThread:
    """One thread that starts Playwright's sync API and makes every call into it.

    :meth:`start` returns the proxied ``Playwright`` object; :meth:`stop` stops
    Playwright and ends the thread.
    """

    def __init__(self, name: str = "pyweb-playwright") -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: weakref.WeakValueDictionary[int, _Proxy] = weakref.WeakValueDictionary()
        self._proxies_lock = threading.Lock()
        self._playwright: Any = None

    def start(self) -> Any:
        """Start the thread and Playwright in it; the proxied ``Playwright``."""
        self._thread.start()
        self._playwright = self.call(self._start_playwright)
        return self.wrap(self._playwright)

    def _start_playwright(self) -> Any:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        # Playwright leaves its loop marked as this thread's running loop between calls.
        self._loop = asyncio.get_running_loop()
        return playwright

    def stop(self) -> None:
        """Stop Playwright (its browsers with it) and end the thread."""
        if not self._thread.is_alive():
            return
        try:
            if self._playwright is not None:
                self.call(self._playwright.stop)
        finally:
            self._playwright = None
            self._jobs.put(None)
            self._thread.join(30)

    @property
    def in_thread(self) -> bool:
        """True when the calling thread is the Playwright thread."""
        return threading.current_thread() is self._thread

    def call(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
        """``fn(*args, **kwargs)`` run in the Playwright thread; its result or its exception."""
        if self.in_thread:
            return fn(*args, **kwargs)
        if not self._thread.is_alive():
            raise RuntimeError("the Playwright thread has stopped")
        job = _Job(fn, args, kwargs)
        self._jobs.put(job)
        try:
            job.done.wait()
        except BaseException:  # KeyboardInterrupt & co. in the caller: do not leave the thread stuck
            self._cancel(job)
            raise
        if job.error is not None:
            error, job.error = job.error, None
            raise error
        value: _T = job.value
        return value

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._loop is not None:
                job.tasks_before = asyncio.all_tasks(self._loop)
            job.running = True
            try:
                job.value = job.fn(*job.args, **job.kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, whatever it is
                job.error = exc
            finally:
                job.running = False
                job.tasks_before = set()
                job.done.set()

    def _cancel(self, job: _Job) -> None:
        """Cancel what an abandoned call waits for (Playwright's tasks it started), from the caller's thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def cancel() -> None:  # runs on Playwright's loop, which runs while the call waits
            if job.running:
                for task in asyncio.all_tasks(loop) - job.tasks_before:
                    task.cancel()

        loop.call_soon_threadsafe(cancel)

    # -- proxies ---------------------------------------------------------------------

    def wrap(self, value: Any) -> Any:
        """``value`` with every Playwright object in it replaced by its proxy."""
        if isinstance(value, _Proxy) or value is None or isinstance(value, (str, bytes, int, float, bool)):
            return value
        if isinstance(value, list):
            return [self.wrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.wrap(v) for v in value)
        if isinstance(value, dict):
            return {k: self.wrap(v) for k, v in value.items()}
        if type(value).__module__.startswith("playwright."):
            with self._proxies_lock:  # wrapped in both threads (callbacks run in Playwright's)
                proxy = self._proxies.get(id(value))
                if proxy is None:  # one proxy per object while it lives: `is` keeps its meaning
                    proxy = _Proxy(value, self)
                    self._proxies[id(value)] = proxy
            return proxy
        return value

    def callback(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` as Playwright calls it (in this thread): with proxied arguments."""
        try:
            parameters = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            parameters = None
        if parameters is None or any(p.kind is p.VAR_POSITIONAL for p in parameters):
            count = None
        else:
            count = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)

        def handler(*args: Any) -> Any:
            return fn(*(self.wrap(a) for a in args[:count]))

        return handler


def unwrap(value: Any) -> Any:
    """The Playwright object behind a proxy (anything else as it is; lists, tuples, dicts too)."""
    if isinstance(value, _Proxy):
        return object.__getattribute__(value, "_target")
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return value


def call_in_thread(obj: Any, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
    """Run ``fn`` in the Playwright thread of the proxy ``obj`` (directly for anything else).

    For code that must run beside Playwright's loop, e.g. a timer on it.
    """
    if isinstance(obj, _Proxy):
        runner: PlaywrightThread = object.__getattribute__(obj, "_runner")
        return runner.call(fn, *args, **kwargs)
    return fn(*args, **kwargs)


class _Proxy:
    """Stands for one Playwright sync object of a :class:`PlaywrightThread`."""

    __slots__ = ("__weakref__", "_callbacks", "_runner", "_target")

    def __init__(self, target: Any, runner: PlaywrightThread) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_runner", runner)
        # callback -> what Playwright was given, so that remove_listener finds it again
        object.__setattr__(self, "_callbacks", {})

    def __getattr__(self, name: str) -> Any:
        target = object.__getattribute__(self, "_target")
        runner: PlaywrightThread = object.__getattribute__(self, "_runner")
        if inspect.isfunction(inspect.getattr_static(type(target), name, None)):
            return _Method(self, name)  # a method: called through the thread
        return runner.wrap(runner.call(getattr, target, name))  # a property may talk to the browser

    def __setattr__(self, name: str, value: Any) -> None:
        runner: PlaywrightThread = object.__getattribute__(self, "_runner")
        runner.call(setattr, object.__getattribute__(self, "_target"), name, unwrap(value))

    def __enter__(self) -> Any:
        return _Method(self, "__enter__")()

    def __exit__(self, *exc_info: Any) -> Any:
        return _Method(self, "__exit__")(*exc_info)

    def __repr__(self) -> str:
        return f"<proxy {object.__getattribute__(self, '_target')!r}>"

    def __str__(self) -> str:
        runner: PlaywrightThread = object.__getattribute__(self, "_runner")
        return runner.call(str, object.__getattribute__(self, "_target"))


class _Method:
    """A bound method of a proxied object: each call runs in the Playwright thread."""

    __slots__ = ("_name", "_proxy")

    def __init__(self, proxy: _Proxy, name: str) -> None:
        self._proxy, self._name = proxy, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        proxy = self._proxy
        runner: PlaywrightThread = object.__getattribute__(proxy, "_runner")
        target = object.__getattribute__(proxy, "_target")
        args = tuple(self._argument(a) for a in args)
        kwargs = {k: self._argument(v) for k, v in kwargs.items()}
        return runner.wrap(runner.call(getattr(target, self._name), *args, **kwargs))

    def _argument(self, value: Any) -> Any:
        if callable(value) and not isinstance(value, (_Proxy, type)):
            callbacks: dict[Any, Any] = object.__getattribute__(self._proxy, "_callbacks")
            if value not in callbacks:
                runner: PlaywrightThread = object.__getattribute__(self._proxy, "_runner")
                callbacks[value] = runner.callback(value)
            return callbacks[value]
        return unwrap(value)

    def __repr__(self) -> str:
        return f"<proxied method {self._name} of {self._proxy!r}>"
