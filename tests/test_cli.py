from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import pyweb
from pyweb.cli import main
from pyweb.testing.contract import assert_same_model, make_artifacts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _float_model(seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "dense/kernel": rng.uniform(-2, 3, (50, 40)).astype(np.float32),
        "dense/bias": rng.standard_normal(40).astype(np.float32),
        "step": np.array(7, dtype=np.int32),
    }
    data, specs = pyweb.encode_weights(arrays)
    art = pyweb.ModelArtifacts(
        model_topology={"class_name": "Sequential", "config": {}},
        weight_specs=specs,
        weight_data=data,
        format="layers-model",
        generated_by="tests",
        converted_by=None,
    )
    return art, arrays


@pytest.fixture
def model_dir(tmp_path):
    art, _ = _float_model()
    pyweb.save(art, f"file://{tmp_path}/m")
    return tmp_path / "m"


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_prints_metadata_weights_totals_and_files(capsys, model_dir):
    code, out, err = _run(capsys, "inspect", str(model_dir))
    assert code == 0 and err == ""
    assert f"file://{model_dir}" in out
    assert "layers-model" in out and "tests" in out and "convertedBy:  null" in out
    assert "shards:       1 file(s)" in out
    lines = out.splitlines()
    kernel = next(line for line in lines if line.startswith("dense/kernel")).split()
    assert kernel == ["dense/kernel", "[50,40]", "float32", "-", "8000"]
    step = next(line for line in lines if line.startswith("step")).split()
    assert step == ["step", "[]", "int32", "-", "4"]
    assert "total: 3 weights, 2041 parameters, 8164 bytes" in out
    assert "weights.bin" in out and "(8164 bytes)" in out


def test_inspect_memory_model(capsys):
    pyweb.save(make_artifacts(1), "memory://a")
    code, out, _ = _run(capsys, "inspect", "memory://a")
    assert code == 0
    assert "words" in out and "string" in out and "shards:" not in out


@pytest.mark.parametrize("quantize, tol", [("uint8", 5 / 255), ("uint16", 5 / 65535), ("float16", 3e-3)])
def test_convert_quantize_and_shard(capsys, tmp_path, model_dir, quantize, tol):
    dst = tmp_path / "q"
    code, out, err = _run(
        capsys,
        "convert",
        str(model_dir),
        f"file://{dst}",
        "--quantize",
        quantize,
        "--shard-bytes",
        "1000",
        "--integrity",
    )
    assert code == 0, err
    doc = json.loads((dst / "model.json").read_text())
    group = doc["weightsManifest"][0]
    n = len(group["paths"])
    assert group["paths"] == [f"group1-shard{i}of{n}.bin" for i in range(1, n + 1)] and n > 1
    assert all(os.path.getsize(dst / p) == 1000 for p in group["paths"][:-1])
    assert len(group["sha256"]) == n
    kernel_spec = group["weights"][0]
    assert kernel_spec["dtype"] == "float32" and kernel_spec["quantization"]["dtype"] == quantize

    _, arrays = _float_model()
    got = pyweb.load(f"file://{dst}")
    decoded = pyweb.decode_weights(got.weight_data, got.weight_specs)
    for name, arr in arrays.items():
        np.testing.assert_allclose(decoded[name], arr, atol=tol * 5, rtol=0)
    np.testing.assert_array_equal(decoded["step"], arrays["step"])

    _, out, _ = _run(capsys, "inspect", str(dst))
    assert next(line for line in out.splitlines() if line.startswith("dense/kernel")).split()[3] == quantize
    assert "group1-shard1of" in out


def test_convert_without_options_copies_bytes(capsys, tmp_path, model_dir):
    code, _, _ = _run(capsys, "convert", str(model_dir), str(tmp_path / "plain"))
    assert code == 0
    assert (tmp_path / "plain/weights.bin").read_bytes() == (model_dir / "weights.bin").read_bytes()


def test_ls_cp_mv_rm_on_file(capsys, tmp_path, model_dir, monkeypatch):
    assert _run(capsys, "cp", str(model_dir), f"file://{tmp_path}/sub/copy")[0] == 0
    code, out, _ = _run(capsys, "ls", str(tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["URL", "DATE", "TOPOLOGY", "WEIGHTS"]
    assert [line.split()[0] for line in lines[1:]] == [f"file://{tmp_path}/m", f"file://{tmp_path}/sub/copy"]
    assert lines[1].split()[-1] == "8164"

    assert _run(capsys, "mv", f"file://{tmp_path}/sub/copy", str(tmp_path / "moved"))[0] == 0
    assert not (tmp_path / "sub/copy").exists()
    assert _run(capsys, "rm", str(tmp_path / "m"))[0] == 0
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "ls")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["file://moved"]


def test_ls_cp_mv_rm_on_memory(capsys, model_dir):
    assert _run(capsys, "cp", str(model_dir), "memory://a/one")[0] == 0
    assert _run(capsys, "cp", "memory://a/one", "memory://b")[0] == 0
    assert _run(capsys, "mv", "memory://b", "memory://c")[0] == 0
    code, out, _ = _run(capsys, "ls", "memory://")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["memory://a/one", "memory://c"]
    assert _run(capsys, "rm", "memory://c")[0] == 0
    assert list(pyweb.list_models("memory://")) == ["memory://a/one"]
    assert_same_model(pyweb.load("memory://a/one"), pyweb.load(f"file://{model_dir}"))


@pytest.mark.parametrize(
    "argv",
    [
        ["inspect", "/definitely/not/here"],
        ["rm", "memory://nothing"],
        ["convert", "memory://nothing", "memory://x"],
        ["ls", "nosuchscheme://x"],
        ["inspect", "file://{tmp}/corrupt"],
        ["convert", "file://{tmp}/good", "memory://x", "--shard-bytes", "10"],
    ],
)
def test_errors_are_one_line_exit_1(capsys, tmp_path, argv):
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt/model.json").write_text("{oops\n\nmore")
    pyweb.save(make_artifacts(), f"file://{tmp_path}/good")
    code, _, err = _run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == 1
    assert err.startswith("pyweb: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    assert _run(capsys, "convert", "a")[0] == 2
    assert _run(capsys, "convert", "a", "b", "--quantize", "int4")[0] == 2
    assert _run(capsys, "convert", "a", "b", "--shard-bytes", "0")[0] == 2
    assert _run(capsys, "serve", "d", "--cors", "x", "--no-cors")[0] == 2
    assert _run(capsys)[0] == 2


def test_version_and_help(capsys):
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.strip() == f"pyweb {pyweb.__version__}"
    code, out, _ = _run(capsys, "--help")
    assert code == 0 and all(c in out for c in ["inspect", "convert", "ls", "cp", "mv", "rm", "serve"])


def test_keyboard_interrupt_exits_130_quietly(capsys, monkeypatch, model_dir):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pyweb.api, "load", interrupted)
    code, _, err = _run(capsys, "inspect", str(model_dir))
    assert code == 130 and err == ""


def test_serve_passes_options(monkeypatch, tmp_path):
    seen = {}
    server = pytest.importorskip("pyweb.server")
    monkeypatch.setattr(server, "serve", lambda root, **kw: seen.update(root=root, **kw))
    assert main(["serve", str(tmp_path), "--port", "0", "--no-cors", "--token", "t", "--max-body", "99"]) == 0
    assert seen == {
        "root": str(tmp_path),
        "host": "127.0.0.1",
        "port": 0,
        "cors_origin": None,
        "token": "t",
        "max_body_bytes": 99,
    }
    seen.clear()
    assert main(["serve", str(tmp_path), "--cors", "https://a.example"]) == 0
    assert seen["cors_origin"] == "https://a.example" and seen["port"] == 8000 and "max_body_bytes" not in seen


def _subprocess(*argv, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pyweb", *argv],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_subprocess_convert_and_inspect(tmp_path, model_dir):
    done = _subprocess("convert", "m", "out", "--quantize", "float16", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not a TTY: no progress bar
    done = _subprocess("inspect", "out", cwd=tmp_path)
    assert done.returncode == 0 and "float16" in done.stdout


def test_subprocess_error_is_one_line(tmp_path):
    done = _subprocess("inspect", "missing", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("pyweb: error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_subprocess_serve_then_inspect_and_upload_over_http(capsys, tmp_path, model_dir):
    pytest.importorskip("pyweb.server")
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyweb", "serve", str(tmp_path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        base = next(word for word in line.split() if word.startswith("http://")).rstrip("/")
        code, out, err = _run(capsys, "inspect", f"{base}/models/m/model.json")
        assert code == 0, err
        assert "total: 3 weights, 2041 parameters, 8164 bytes" in out
        code, _, err = _run(capsys, "convert", str(model_dir), f"{base}/models/up", "--quantize", "uint8")
        assert code == 0, err
        assert pyweb.load(f"file://{tmp_path}/up").weight_specs[0]["quantization"]["dtype"] == "uint8"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
