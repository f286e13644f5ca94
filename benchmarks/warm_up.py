"""Warm the process that forks cells, so every cell inherits what would otherwise be computed in each of them.

- :func:`warm_up`: explainers of libraries that compile code on first use (``WARM_UP_LIBRARIES``: shap's numba
  kernels, ~6-15 s) explain a tiny model once, so forked cells inherit the compiled code instead of each compiling
  it, and no cell's time includes a compile. Best effort; the global numpy RNG is restored after each, so a warmed
  run draws exactly what a cold one does.
- :func:`warm_process`: the modules the explainers of each library import on first use (``PRELOAD``: captum's
  ``attr`` package alone takes ~1.5 s to import), and per-process memos every cell reads (the source fingerprints
  of the disk caches, which hash every ``.py`` file of the package), once here instead of once per forked cell.
  Only library modules are imported in the parent (never an explainer's own code).
"""

from __future__ import annotations

import time
from typing import Any, Iterable

from xaicheck.explainers.base import applicability

__all__ = ["WARM_UP_LIBRARIES", "PRELOAD", "warm_up", "warm_process", "needs_warm_up"]

#: Libraries whose explainers compile code (numba) on first use: warmed up once in the parent before forking.
WARM_UP_LIBRARIES: tuple[str, ...] = ("shap",)
#: Modules imported lazily by the explainers of a library (``Explainer.library``), measured as what a cell of the
#: quick suite adds to ``sys.modules``: imported once in the parent so no forked cell pays for the import.
PRELOAD: dict[str, tuple[str, ...]] = {
    "captum": ("captum.attr", "captum.attr._core.lrp", "captum.attr._utils.lrp_rules"),
    "saliency": ("saliency.core", "saliency.core.guided_ig", "skimage.segmentation", "xaicheck.explainers._output"),
    "lime": ("lime.lime_tabular", "lime.lime_text"),
    "scikit-learn": ("sklearn.inspection",),
    "shap": ("shap",),
}


def needs_warm_up(explainers: Iterable[Any]) -> list[Any]:
    """The explainers of ``WARM_UP_LIBRARIES``, by name, each once."""
    return [e for _, e in sorted({e.name: e for e in explainers if e.library in WARM_UP_LIBRARIES}.items())]


def _warm_up_model() -> Any:
    from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

    return FunctionModel("xaicheck_warm_up", "warm_up", lambda X: X[:, 0] * X[:, 1] + X[:, 2], ("a", "b", "c"),
                         GroundTruth(relevant=frozenset({0, 1, 2})))


def warm_up(explainers: Iterable[Any]) -> dict[str, float]:
    """Let each of ``explainers`` that is of a ``WARM_UP_LIBRARIES`` library explain a 3-feature model once.

    An explainer that cannot explain a plain callable is skipped and any error is ignored (the real cells record
    their own). Returns ``{explainer: seconds}`` for the explainers that ran."""
    todo = needs_warm_up(explainers)
    if not todo:
        return {}
    from xaicheck.explainers import _field

    if _field.field_mode() == "process":
        _field.warm()  # explainers run in field processes forked from the zygote, which warms itself (_zygote)
        return {}
    import numpy as np

    model = _warm_up_model()
    rng = np.random.default_rng(0)
    X, background = rng.uniform(size=(2, 3)), rng.uniform(size=(8, 3))
    spent: dict[str, float] = {}
    state = np.random.get_state()  # a warmed-up run draws exactly what a cold one does
    for exp in todo:
        try:
            if not applicability(exp, model)[0]:
                continue
            start = time.perf_counter()
            exp.explain(model, X, baseline=np.zeros(3), background=background, seed=0)
            spent[exp.name] = time.perf_counter() - start
        except Exception:  # noqa: BLE001 - warm-up is an optimisation, never a failure
            continue
        finally:
            np.random.set_state(state)
    return spent


def warm_process(explainers: Iterable[Any] = ()) -> None:
    """Import the ``PRELOAD`` modules of the ``explainers``' libraries and compute the per-process memos every cell
    reads (module docstring) in this process, before it forks. Best effort: a module that fails to import is left
    to the cells (they record their own error)."""
    import importlib
    import os

    from xaicheck.axioms import _search_cache
    from xaicheck.synthetic_models import _fit_cache

    explainers = list(explainers)
    # the zygote the cells' explainers run in compiles shap's kernels and runs captum's first calls once
    from xaicheck.explainers._zygote import WARM_ENV, WARM_LIBRARIES

    libraries = sorted({e.library for e in explainers if getattr(e, "library", "") in WARM_LIBRARIES})
    if libraries:
        os.environ[WARM_ENV] = ",".join(libraries)

    for library in sorted({getattr(e, "library", "") for e in explainers}):
        for module in PRELOAD.get(library, ()):
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - an optional library that is missing or broken
                continue
    _search_cache.code_fingerprint()
    _fit_cache.code_fingerprint()
