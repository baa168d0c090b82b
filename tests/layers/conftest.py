"""Fixtures for pyweb.layers tests: the TF.js golden models written by tools/tfjs/layers_goldens.js."""

from __future__ import annotations

from tests.tfjs_node import REPO_ROOT, node_output_fixture

LAYERS_GOLDENS = REPO_ROOT / "tools" / "tfjs" / "layers_goldens.js"

#: Session fixture: OUTDIR of layers_goldens.js (layout in that script's header).
layers_goldens = node_output_fixture(LAYERS_GOLDENS, name="layers_goldens")
