"""torch helpers: cheap seeding draws the same stream as ``torch.manual_seed`` and restores the global state; a
model's torch module is built once, shared, copied for hook-attaching methods, and rebuilt if a method left
something behind on it."""

from __future__ import annotations

import numpy as np
import torch

from xaicheck.explainers.torch_utils import torch_module_of, torch_seed
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth


def test_torch_seed_same_stream_and_restores_state() -> None:
    torch.manual_seed(11)
    expected = torch.randn(4)
    torch.manual_seed(3)
    before = torch.default_generator.get_state()
    with torch_seed(11):
        got = torch.randn(4)
    assert torch.equal(got, expected)
    assert torch.equal(torch.default_generator.get_state(), before)


def counting_model() -> tuple[FunctionModel, list[int]]:
    built: list[int] = []

    def factory() -> torch.nn.Module:
        built.append(1)
        return torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1),
                                   torch.nn.Flatten(0))

    model = FunctionModel("m", "test", lambda X: X.sum(axis=1), ("a", "b"), GroundTruth(relevant=frozenset({0, 1})),
                          torch_factory=factory)
    return model, built


def test_module_built_once_and_shared() -> None:
    model, built = counting_model()
    first, second = torch_module_of(model), torch_module_of(model)
    assert first is second and len(built) == 1
    assert first[0].weight.dtype == torch.float64 and not first.training
    copy = torch_module_of(model, fresh=True)
    assert copy is not first and len(built) == 1
    x = torch.as_tensor(np.array([[0.5, -1.0]]))
    assert torch.equal(copy(x), first(x))


def test_leftovers_force_a_rebuild() -> None:
    model, built = counting_model()
    shared = torch_module_of(model)
    handle = shared[1].register_forward_hook(lambda *args: None)  # a method that did not clean up
    assert torch_module_of(model) is not shared and len(built) == 2
    handle.remove()
    again = torch_module_of(model)
    again[0].rule = "epsilon"  # an attribute left by an LRP-like method
    assert torch_module_of(model) is not again and len(built) == 3
    torch_module_of(model).train()
    assert not torch_module_of(model).training and len(built) == 4


def test_fresh_module_of_a_sealed_model_is_its_private_copy() -> None:
    """A sealed view deep-copies on every ``torch_module()``: ``fresh=True`` hands that copy over (no second copy),
    it is float64 and in eval mode, and editing it reaches neither a later fresh copy nor the shared module."""
    from xaicheck.synthetic_models.base import seal

    def factory() -> torch.nn.Module:  # deterministic, as every registered model's module is
        with torch_seed(0):
            return torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))

    sealed = seal(FunctionModel("m", "test", lambda X: X.sum(axis=1), ("a", "b"),
                                GroundTruth(relevant=frozenset({0, 1})), torch_factory=factory))
    a = torch_module_of(sealed, fresh=True)
    assert a[0].weight.dtype == torch.float64 and not a.training
    with torch.no_grad():
        a[0].weight.add_(1.0)  # a method that edits weights
    a[0].rule = "epsilon"
    b, shared = torch_module_of(sealed, fresh=True), torch_module_of(sealed)
    assert b is not a and shared is not a and shared is not b
    assert torch.equal(b[0].weight, shared[0].weight) and not torch.equal(a[0].weight, b[0].weight)
    assert not hasattr(b[0], "rule") and not hasattr(shared[0], "rule")
    c = torch_module_of(sealed, fresh=True)  # once a shared module exists, fresh copies are copies of it
    assert c is not shared and torch.equal(c[0].weight, shared[0].weight)
