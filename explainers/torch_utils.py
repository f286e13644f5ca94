"""Shared helpers for the adapters: tensor conversion, target selection, numpy-as-torch wrapping, seeding.

torch is imported lazily inside each helper, so importing this module (and listing explainers) stays cheap.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

if TYPE_CHECKING:
    import torch

    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = [
    "as_tensor",
    "to_numpy",
    "torch_module_of",
    "captum_target",
    "numpy_forward",
    "predict_fn",
    "torch_seed",
    "numpy_global_seed",
    "quiet_captum",
    "ScalarOutput",
]


def as_tensor(X: np.ndarray, *, requires_grad: bool = False) -> "torch.Tensor":
    """A float64 torch copy of ``X`` (never shares memory with the caller's array)."""
    import torch

    t = torch.tensor(np.asarray(X, dtype=np.float64), dtype=torch.float64)
    return t.requires_grad_(requires_grad)


def to_numpy(t: Any) -> np.ndarray:
    """A float64 numpy array from a tensor (detached, on CPU) or anything array-like."""
    if hasattr(t, "detach"):
        t = t.detach().cpu().numpy()
    return np.asarray(t, dtype=np.float64)


def _state(module: "torch.nn.Module") -> tuple[Any, ...]:
    """What a method may leave behind on a module: attribute names, non-empty hook tables, training flags."""
    return tuple((tuple(sorted(vars(m))), m.training,
                  tuple(k for k, v in vars(m).items() if "hooks" in k and isinstance(v, dict) and v))
                 for m in module.modules())


#: One float64 eval-mode module per model (built once), with its pristine ``_state``.
_BUILT: "weakref.WeakKeyDictionary[Any, tuple[torch.nn.Module, tuple[Any, ...]]]" = weakref.WeakKeyDictionary()


def torch_module_of(model: "SyntheticModel", *, fresh: bool = False) -> "torch.nn.Module":
    """``model.torch_module()`` in float64 eval mode, built once per model and shared.

    ``fresh=True`` returns a deep copy (for methods that set attributes or rules on modules, e.g. LRP), so the shared
    module is never modified. The shared module is checked before reuse: if a method left hooks, attributes or the
    training flag on it (e.g. after an exception), it is rebuilt, so a cell never sees another cell's leftovers.
    A sealed model (``SealedModel``) deep-copies its module on every ``torch_module()`` call, so ``fresh=True``
    with nothing shared yet returns that private copy itself (one deep copy, not two; the same module).
    """
    import torch

    from xaicheck.synthetic_models.base import SealedModel

    entry = None
    try:
        entry = _BUILT.get(model)
    except TypeError:  # an unhashable model: no cache
        pass
    if entry is None or _state(entry[0]) != entry[1]:
        module = model.torch_module()
        if module is None:
            raise ValueError(f"model {model.name!r} has no torch module")
        module = module.to(torch.float64).eval()
        if fresh and entry is None and isinstance(model, SealedModel):
            return module  # already a private copy that nothing else holds
        entry = (module, _state(module))
        with contextlib.suppress(TypeError):
            _BUILT[model] = entry
    return copy.deepcopy(entry[0]) if fresh else entry[0]


def captum_target(model: "SyntheticModel", target: int | None) -> int | None:
    """captum's ``target``: ``None`` for a model with one output ([n] output), else the output column."""
    return None if model.n_outputs == 1 else target


def predict_fn(model: "SyntheticModel", target: int | None) -> Callable[[np.ndarray], np.ndarray]:
    """The explained scalar output as a numpy function ``[m, d] -> [m]`` (``model.predict_target``)."""

    def f(Z: np.ndarray) -> np.ndarray:
        return model.predict_target(np.asarray(Z, dtype=np.float64), target)

    return f


def numpy_forward(model: "SyntheticModel", target: int | None) -> Callable[["torch.Tensor"], "torch.Tensor"]:
    """``model.predict_target`` as a torch forward function ``[m, d] -> [m]`` (for perturbation methods; no
    gradients flow through it)."""
    import torch

    f = predict_fn(model, target)

    def forward(x: "torch.Tensor") -> "torch.Tensor":
        out = f(x.detach().cpu().numpy().reshape(x.shape[0], -1))
        return torch.as_tensor(out, dtype=torch.float64)

    return forward


def ScalarOutput(module: "torch.nn.Module", target: int | None, *, keepdim: bool = False) -> "torch.nn.Module":
    """Wrap ``module`` so it returns the explained output: ``[m]`` (or ``[m, 1]`` with ``keepdim``, as shap's deep and
    gradient explainers need a 2-D output). The wrapped module stays a registered child, so hooks still reach it."""
    import torch

    class _Scalar(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = module

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            out = self.inner(x.to(torch.float64))
            if out.dim() == 2:
                if target is None and out.shape[1] != 1:
                    raise ValueError(f"module returns {out.shape[1]} outputs; a target is required")
                out = out[:, 0 if target is None else target]
            return out.unsqueeze(1) if keepdim else out

    return _Scalar().eval()


@contextlib.contextmanager
def torch_seed(seed: int) -> Iterator[None]:
    """Seed torch's global CPU generator for the block and restore its previous state afterwards.

    ``torch.manual_seed`` also seeds every accelerator, and on a CPU build its lazy device hooks cost 0.1-2 ms a call
    (they format the Python stack); a CPU run draws only from ``torch.default_generator``, seeded here directly (the
    same stream, ~1 us). With CUDA initialised, the full ``fork_rng`` / ``manual_seed`` path is taken."""
    import torch

    if torch.cuda.is_initialized():
        with torch.random.fork_rng():
            torch.manual_seed(int(seed))
            yield
        return
    generator = torch.default_generator
    state = generator.get_state()
    generator.manual_seed(int(seed))
    try:
        yield
    finally:
        generator.set_state(state)


@contextlib.contextmanager
def numpy_global_seed(seed: int) -> Iterator[None]:
    """Seed numpy's *legacy global* generator (shap's Kernel/Permutation explainers draw from it) for the block and
    restore its previous state afterwards, so no other code's randomness is disturbed."""
    state = np.random.get_state()
    np.random.seed(int(seed) % (2**32))
    try:
        yield
    finally:
        np.random.set_state(state)


#: captum's informational warnings about its own hooks and grad flags; anything else is left visible.
_CAPTUM_NOISE = (
    r"Input Tensor \d+ did not already require gradients",
    r"Setting forward, backward hooks and attributes on non-linear",
    r"Setting backward hooks on ReLU activations",
    r"You are providing multiple inputs for Lime / Kernel SHAP",
)


@contextlib.contextmanager
def quiet_captum() -> Iterator[None]:
    """Silence captum's known informational warnings (hooks set / grads required) inside the block."""
    with warnings.catch_warnings():
        for pattern in _CAPTUM_NOISE:
            warnings.filterwarnings("ignore", message=pattern)
        yield
