"""The strict reader's gate: loaded artifacts are well-formed, or a typed error says why.

Every load in :mod:`pyweb.api` (and the server, before it stores an upload)
passes what a handler returned through :func:`check_artifacts`, so a
malformed record or file (a ``weightData`` that is a number, specs that are
``true``, a shape no array can have, duplicate names, weights shorter than
their specs) fails at load with :class:`~pyweb.errors.CorruptModelError` or
:class:`~pyweb.errors.UnsupportedDTypeError` instead of some other exception
later. Needs no numpy.
"""

from __future__ import annotations

from .artifacts import MAX_JSON_DEPTH, json_depth
from .errors import ArtifactError, CorruptModelError
from .types import ModelArtifacts
from .weights import check_weights

__all__ = ["check_artifacts"]

_BYTES = (bytes, bytearray, memoryview)
# JSON-valued fields, as (attribute, what errors call it).
_JSON_FIELDS = (
    ("model_topology", "model_topology"),
    ("weight_specs", "weight_specs"),
    ("training_config", "trainingConfig"),
    ("signature", "signature"),
    ("user_defined_metadata", "userDefinedMetadata"),
    ("model_initializer", "modelInitializer"),
    ("initializer_signature", "initializerSignature"),
)


def check_artifacts(artifacts: ModelArtifacts, *, url: str | None = None, exact: bool = False) -> ModelArtifacts:
    """Return ``artifacts`` if they are well-formed; raise a typed error naming the part if not.

    ``exact`` also refuses weight bytes after the last weight (for uploads).
    """
    if not isinstance(artifacts, ModelArtifacts):
        raise ArtifactError(f"a handler returned {type(artifacts).__name__}, not ModelArtifacts")
    topology = artifacts.model_topology
    if topology is not None and not isinstance(topology, (dict, list, *_BYTES)):
        kind = type(topology).__name__
        raise CorruptModelError(f"modelTopology{_at(url)} is a {kind}, not an object", part="model_topology", url=url)
    for attr, part in _JSON_FIELDS:
        if json_depth(getattr(artifacts, attr)) > MAX_JSON_DEPTH:
            raise CorruptModelError(f"{part}{_at(url)} nests deeper than {MAX_JSON_DEPTH}", part=part, url=url)
    if artifacts.weight_specs is None:
        if artifacts.weight_data is not None:
            check_weights([], artifacts.weight_data)  # at least bytes-like
        return artifacts
    try:
        check_weights(artifacts.weight_specs, artifacts.weight_data, exact=exact)
    except CorruptModelError as exc:
        if exc.url is None:
            exc.url = url
        exc.args = (f"{exc.args[0]}{_at(url)}",)
        raise
    return artifacts


def _at(url: str | None) -> str:
    return f" (in {url})" if url else ""
