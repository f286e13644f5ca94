"""axioms._reference_cache: the exact reference computed once per case and kind, read back bit-identical, keyed by
the function itself (an edited model under the same name and spec misses), off with the search cache."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms import _reference_cache as rc
from xaicheck.axioms.ground_truth_agreement import reference_attribution
from xaicheck.explainers.base import get_explainer
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth, uniform_sampler
from xaicheck.synthetic_models.shapley import baseline_shapley

D = rc.MIN_FEATURES


def _model(scale: float) -> FunctionModel:
    return FunctionModel("same_name", "test", lambda X: scale * X[:, 0] * X[:, 1] + np.sin(X).sum(axis=1),
                         tuple(f"x{i}" for i in range(D)), GroundTruth(relevant=frozenset(range(D))),
                         sampler=uniform_sampler(D, -1.0, 1.0))


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path))
    return tmp_path / "references"


def test_stored_reference_is_bit_identical_and_read_back(cache, monkeypatch):
    model = _model(1.0)
    X = model.sample(4, np.random.default_rng(0))
    b = np.zeros(D)
    exact = get_explainer("exact_baseline_shapley")
    first = reference_attribution(exact, model, X, baseline=b, background=None)
    assert len(list(cache.glob("*.npy"))) == 1
    calls = []
    monkeypatch.setattr("xaicheck.axioms.ground_truth_agreement.baseline_shapley",
                        lambda *a, **k: calls.append(1) or baseline_shapley(*a, **k))
    again = reference_attribution(exact, model, X, baseline=b, background=None)
    assert calls == [] and again.tobytes() == first.tobytes()
    assert again.tobytes() == baseline_shapley(model.predict, X, b).tobytes()
    # another function under the same name and spec: the probe changes the key, the value is recomputed
    other = reference_attribution(exact, _model(3.0), X, baseline=b, background=None)
    assert calls == [1] and not np.allclose(other, first)
    # another reference kind (interventional) is another entry
    reference_attribution(get_explainer("exact_interventional_shapley"), model, X, baseline=b,
                          background=model.sample(2, np.random.default_rng(1)))
    assert len(list(cache.glob("*.npy"))) == 3


def test_off_small_or_corrupt_means_computed(tmp_path, monkeypatch):
    model = _model(1.0)
    X = model.sample(2, np.random.default_rng(0))
    B = np.zeros_like(X)
    monkeypatch.setenv("XAICHECK_CACHE_DIR", "off")
    assert rc.cached_reference("k", model, model.predict, X, B, None, None, lambda: np.ones(X.shape)).sum() == X.size
    monkeypatch.setenv("XAICHECK_CACHE_DIR", str(tmp_path))
    small = X[:, : D - 1]
    rc.cached_reference("k", model, model.predict, small, B[:, : D - 1], None, None, lambda: np.ones(small.shape))
    assert not (tmp_path / "references").exists()  # below MIN_FEATURES nothing is stored
    key = rc.reference_key("k", model, model.predict, X, B, None, None)
    (tmp_path / "references").mkdir()
    (tmp_path / "references" / f"{key}.npy").write_bytes(b"not an array")
    out = rc.cached_reference("k", model, model.predict, X, B, None, None, lambda: np.full(X.shape, 2.0))
    assert (out == 2.0).all()  # an unreadable entry is recomputed (and replaced)
    assert (rc.cached_reference("k", model, model.predict, X, B, None, None, lambda: np.zeros(X.shape)) == 2.0).all()
