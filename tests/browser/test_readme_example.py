"""README's browser example runs as printed in a real page, and TF.js reads what it saved."""

from __future__ import annotations

import pytest

from tests.test_readme import readme_example

pytestmark = pytest.mark.browser


def test_browser_example_runs(pyodide, captured_downloads):
    code = readme_example("## Example (browser, Pyodide)")
    assert len(code.strip().splitlines()) <= 12
    pyodide.run(code + "\nNone")
    listed = pyodide.run("import pyweb; sorted(await pyweb.alist_models())")
    assert listed == ["indexeddb://clf", "indexeddb://clf-2"]
    if pyodide.browser_name == "webkit":
        # WebDriver's scripts run without user activation: each file waits for its own button.
        assert pyodide.run_js(
            "() => [...document.querySelectorAll('[data-pyweb-download]')].map((b) => b.dataset.pywebDownload)"
        ) == ["clf.json", "clf.weights.bin"]
        pyodide.click('[data-pyweb-download="clf.json"]')
        files = dict(captured_downloads.wait(1))
    else:
        # Run from a gesture (Playwright's evaluate counts as one): one file at once, one button for the other.
        assert [name for name, _ in captured_downloads.wait(1)] == ["clf.json"]
        files = {"clf.json": b""}
    pyodide.click("[data-pyweb-download]")
    files.update(captured_downloads.wait(1))
    assert sorted(files) == ["clf.json", "clf.weights.bin"]
    assert len(files["clf.weights.bin"]) == (4 * 8 + 8 + 8 * 3 + 3) * 4
    # TF.js in the same page loads the model pyweb saved to IndexedDB.
    pyodide.add_script("/tfjs/tf.min.js")
    shapes = pyodide.run_js(
        "async () => (await tf.loadLayersModel('indexeddb://clf')).getWeights().map((w) => w.shape)"
    )
    assert shapes == [[4, 8], [8], [8, 3], [3]]
