"""xaicheck: axiom tests and a scored leaderboard for attribution methods, on models whose right answer is known.

The public surface, in one place (what the README uses)::

    from xaicheck import parametrize_with_checks, check_explainer, FunctionExplainer, Capabilities

Subpackages: ``xaicheck.synthetic_models`` (models with ground truth and exact oracles), ``xaicheck.explainers``
(adapters, oracles, controls), ``xaicheck.axioms`` (checks) and ``xaicheck.benchmarks`` (suites, runner, scoring,
reports, command line). Names are resolved lazily (PEP 562), so ``import xaicheck`` (done by the pytest plugin in
every pytest run once xaicheck is installed) imports neither numpy nor torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__  # the one version source (pyproject reads it too)

#: public name -> module that defines it (the facade re-exports; a test holds ``__all__`` equal to this table).
_EXPORTS: dict[str, str] = {
    # testing an explainer (scikit-learn's parametrize_with_checks / check_estimator)
    "parametrize_with_checks": "xaicheck.axioms.pytest_api",
    "check_explainer": "xaicheck.axioms.pytest_api",
    # writing and registering an explainer
    "Capabilities": "xaicheck.explainers.base",
    "ExpectedFailure": "xaicheck.explainers.base",
    "Explainer": "xaicheck.explainers.base",
    "ExplainerError": "xaicheck.explainers.base",
    "FunctionExplainer": "xaicheck.explainers.base",
    "explainer": "xaicheck.explainers.base",
    "register": "xaicheck.explainers.base",
    "get_explainer": "xaicheck.explainers.base",
    "explainer_names": "xaicheck.explainers.base",
    # models with ground truth
    "SyntheticModel": "xaicheck.synthetic_models.base",
    "FunctionModel": "xaicheck.synthetic_models.base",
    "GroundTruth": "xaicheck.synthetic_models.base",
    "get_model": "xaicheck.synthetic_models.registry",
    "model_names": "xaicheck.synthetic_models.registry",
    "register_model": "xaicheck.synthetic_models.registry",
    # your own models: wrap a torch module / fitted estimator / function with what you know about it
    "wrap_model": "xaicheck.synthetic_models.zoo",
    # checks
    "Check": "xaicheck.axioms.base",
    "CheckResult": "xaicheck.axioms.base",
    "Case": "xaicheck.axioms.base",
    "get_check": "xaicheck.axioms.base",
    "check_names": "xaicheck.axioms.base",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xaicheck' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
