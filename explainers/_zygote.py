"""Imported once by the zygote the field processes fork from (``explainers._field.PRELOAD``).

shap compiles numba kernels the first time each explainer runs (6-15 s); captum's and torch autograd's first call in a
process costs about 0.15 s (dispatch tables, hooks, lazily built kernels) -- in every field process, since each cell
gets a fresh one. Done here, every field process inherits the warm state, and no cell's time includes it. The
warm-up runs each shap explainer that can explain a plain callable on a three-feature toy function, and each captum
explainer on a three-feature toy ReLU network -- bare objects with ``predict`` (and ``torch_module``), no model class,
no ground truth, deleted afterwards -- and restores numpy's, Python's and torch's global random states, so a warmed
field draws exactly what a cold one does. Best effort: any error is ignored (the cells record their own).
"""

from __future__ import annotations

import gc
import os

import numpy as np

#: Libraries whose explainers pay a first-use cost in each process.
WARM_LIBRARIES = ("shap", "captum")


class _Toy:
    """f(x) = x0 * x1 + x2 with the attributes adapters read; nothing else."""

    name = "toy"
    domain = "continuous"
    feature_names = ("x0", "x1", "x2")
    n_features = 3
    n_outputs = 1
    input_shape = None
    forms = frozenset({"callable"})

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X[:, 0] * X[:, 1] + X[:, 2]

    __call__ = predict

    def predict_target(self, X: np.ndarray, target: object = None) -> np.ndarray:
        return self.predict(X)

    def torch_module(self) -> None:
        return None

    sklearn_estimator = None


class _TorchToy(_Toy):
    """relu(x W1) w2 on three features (float64), with a torch form."""

    forms = frozenset({"callable", "torch"})

    def __init__(self) -> None:
        import torch

        gen = torch.Generator().manual_seed(0)
        self._net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).double()
        with torch.no_grad():
            for p in self._net.parameters():
                p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) - 0.5)

    def predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self._net(torch.as_tensor(np.asarray(X, dtype=np.float64))).numpy()[:, 0]

    __call__ = predict

    def torch_module(self) -> object:
        import copy

        return copy.deepcopy(self._net)


def warm(libraries: tuple[str, ...] = WARM_LIBRARIES) -> list[str]:
    """Run the explainers of ``libraries`` once on a toy (shap: the callable toy; captum: the torch toy); the names
    that ran."""
    import random

    from .base import all_explainers

    state, py_state = np.random.get_state(), random.getstate()
    torch_state = None
    if "captum" in libraries:
        import torch

        # one intra-op thread: a pool of OpenMP threads started here would not exist in the forks, and their
        # first parallel operation would wait for it forever
        torch.set_num_threads(1)
        torch_state = torch.get_rng_state()
    rng = np.random.default_rng(0)
    X, background = rng.uniform(size=(2, 3)), rng.uniform(size=(8, 3))
    ran = []
    toys = {"shap": _Toy()}
    if "captum" in libraries:
        try:
            toys["captum"] = _TorchToy()
        except Exception:  # noqa: BLE001 - no torch: nothing to warm
            pass
    baseline = np.zeros((2, 3))
    for arr in (X, baseline, background):  # as the field passes them: read-only (numba compiles per writability)
        arr.setflags(write=False)
    for exp in all_explainers():
        toy = toys.get(exp.library) if exp.library in libraries else None
        if toy is None:
            continue
        try:
            if not exp.can_explain(toy)[0]:
                continue
            exp._explain(toy, X, baseline=baseline, background=background, target=None, seed=0)
            ran.append(exp.name)
        except Exception:  # noqa: BLE001 - an optimisation, never a failure
            continue
    np.random.set_state(state)
    random.setstate(py_state)
    if torch_state is not None:
        import torch

        torch.set_rng_state(torch_state)
    del toys
    gc.collect()
    return ran


#: ``XAICHECK_ZYGOTE_WARM=shap,captum`` (set by a run whose cells include explainers of those libraries, before the
#: zygote starts) turns the warm-up on for them; without it the zygote only imports (a test process or
#: ``check_explainer`` on a few cells would spend more on the warm-up than its cells save).
WARM_ENV = "XAICHECK_ZYGOTE_WARM"
_ASKED = tuple(lib for lib in WARM_LIBRARIES if lib in os.environ.get(WARM_ENV, "").split(","))
WARMED = warm(_ASKED) if _ASKED else []
# the BLAS/OpenMP libraries every fork holds, found once here: a field process sets its pool sizes through this
# controller in well under a millisecond, where a fresh ``threadpool_limits`` walks the loaded libraries again (20-70 ms
# in a fork, copying pages as it goes)
from . import _field  # noqa: E402 - preloaded before this module (PRELOAD order)

_field.blas_controller()
# every object the zygote holds now is shared by its forks: frozen, the collector in a field process never walks
# (and so never copies, page by page) the libraries' objects
gc.freeze()
