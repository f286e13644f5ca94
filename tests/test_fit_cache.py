"""synthetic_models._fit_cache: a fitted model read back from disk predicts bit-identically to one trained afresh (and
its torch form too); a cache hit trains nothing; a corrupt file is ignored; ``XAICHECK_CACHE_DIR=off`` computes and
writes nothing; another argument is another key."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

from xaicheck.synthetic_models import _fit_cache as fc
from xaicheck.synthetic_models.adversarial import _train_detector, real_sampler
from xaicheck.synthetic_models.boosted import fit_booster, mixed_sampler
from xaicheck.synthetic_models.image_watermark import WatermarkCNN
from xaicheck.synthetic_models.trained import _adam, _train_mlp
from xaicheck.synthetic_models.trained_tabular import trained_gbm, trained_mlp


def _predictions(model: Any, X: np.ndarray) -> list[np.ndarray]:
    """``predict`` and, when the model has a torch form, the torch module's output on ``X``."""
    out = [np.asarray(model.predict(X))]
    module = model.torch_module() if hasattr(model, "torch_module") else None
    if module is not None:
        with torch.no_grad():
            out.append(module(torch.as_tensor(X, dtype=torch.float64)).numpy())
    return out


def _booster(library: str) -> Callable[[], Any]:
    def fit() -> Any:
        X = mixed_sampler(200, np.random.default_rng(3))
        return fit_booster(library, X, X[:, 0] * X[:, 1] + X[:, 2], n_estimators=20, max_depth=3, learning_rate=0.3,
                           seed=0)

    return fit


def _forest() -> Any:
    return _train_detector(100, 0)[0]


#: name -> (build, input sampler, what must not run on a cache hit: (object, attribute) or a dotted path).
ARTIFACTS: dict[str, tuple[Callable[[], Any], Callable[[], np.ndarray], tuple[Any, str] | str]] = {
    "planted_mlp": (lambda: trained_mlp(0, steps=60), lambda: np.random.default_rng(1).uniform(-2, 2, (64, 10)),
                    (torch.autograd, "grad")),
    "planted_mlp_permuted": (lambda: trained_mlp(0, steps=60, order=(6, 7, 8, 9, 0, 1, 2, 3, 4, 5)),
                         lambda: np.random.default_rng(1).uniform(-2, 2, (64, 10)), (torch.autograd, "grad")),
    "planted_gbm": (lambda: trained_gbm(0), lambda: np.random.default_rng(1).uniform(-2, 2, (64, 10)),
                    "sklearn.ensemble.GradientBoostingRegressor.fit"),
    "additive_mlp": (lambda: _train_mlp(0, 64, 40, 8), lambda: np.random.default_rng(1).uniform(-1, 1, (64, 4)),
                     (torch.autograd, "grad")),
    "watermark_cnn": (lambda: WatermarkCNN(0), lambda: np.random.default_rng(1).uniform(0, 1, (32, 64)),
                      (torch.autograd, "grad")),
    "xgboost": (_booster("xgboost"), lambda: mixed_sampler(64, np.random.default_rng(1)),
                "xgboost.XGBRegressor.fit"),
    "lightgbm": (_booster("lightgbm"), lambda: mixed_sampler(64, np.random.default_rng(1)),
                 "lightgbm.LGBMRegressor.fit"),
    "forest": (_forest, lambda: real_sampler(64, np.random.default_rng(1)),
               "sklearn.ensemble.RandomForestClassifier.fit"),
}


def _outputs(artifact: Any, X: np.ndarray) -> list[np.ndarray]:
    if isinstance(artifact, torch.nn.Module):
        with torch.no_grad():
            return [artifact(torch.as_tensor(X, dtype=torch.float64)).numpy()]
    if hasattr(artifact, "predict_proba"):
        return [np.asarray(artifact.predict(X)), np.asarray(artifact.predict_proba(X))]
    return _predictions(artifact, X)


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("trained although the fit is in the cache")


@pytest.mark.parametrize("name", sorted(ARTIFACTS))
def test_cached_fit_is_bit_identical_and_trains_nothing(name, tmp_path, monkeypatch):
    build, inputs, trainer = ARTIFACTS[name]
    X = inputs()
    monkeypatch.setenv(fc.CACHE_ENV, "off")
    fresh = _outputs(build(), X)
    monkeypatch.setenv(fc.CACHE_ENV, str(tmp_path))
    stored = _outputs(build(), X)  # a miss: trained, then written
    assert list((tmp_path / "fits").iterdir()), "nothing was stored"
    with monkeypatch.context() as m:
        m.setattr(*((trainer,) if isinstance(trainer, str) else trainer), _boom)
        loaded = _outputs(build(), X)  # a hit: read back, no training
    for a, b, c in zip(fresh, stored, loaded, strict=True):
        assert a.tobytes() == b.tobytes() == c.tobytes()


def test_reloaded_networks_have_bit_identical_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv(fc.CACHE_ENV, "off")
    mlp, cnn = trained_mlp(0, steps=60), WatermarkCNN(0)
    monkeypatch.setenv(fc.CACHE_ENV, str(tmp_path))
    trained_mlp(0, steps=60), WatermarkCNN(0)
    mlp2, cnn2 = trained_mlp(0, steps=60), WatermarkCNN(0)
    for (W, b), (W2, b2) in zip(mlp.network.layers, mlp2.network.layers, strict=True):
        assert W.tobytes() == W2.tobytes() and b.tobytes() == b2.tobytes()
    want, got = cnn.torch_module().state_dict(), cnn2.torch_module().state_dict()
    assert want.keys() == got.keys()
    assert all(want[k].dtype == got[k].dtype and torch.equal(want[k], got[k]) for k in want)


def test_corrupt_files_are_ignored_and_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv(fc.CACHE_ENV, str(tmp_path))
    X, R = np.random.default_rng(1).uniform(-2, 2, (64, 10)), real_sampler(64, np.random.default_rng(1))
    want = _outputs(trained_mlp(0, steps=60), X) + _outputs(_forest(), R)
    files = sorted((tmp_path / "fits").iterdir())
    assert {p.suffix for p in files} == {".npz", ".pkl"}
    for path in files:
        path.write_bytes(b"not a fit" + path.read_bytes()[:40])
    got = _outputs(trained_mlp(0, steps=60), X) + _outputs(_forest(), R)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(want, got, strict=True))
    assert all(not p.read_bytes().startswith(b"not a fit") for p in files)  # recomputed and written again


def test_off_computes_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(fc.CACHE_ENV, "off")
    assert fc.fits_dir() is None and fc.cache_root() is None
    calls = []
    real_grad = torch.autograd.grad
    monkeypatch.setattr(torch.autograd, "grad", lambda *a, **k: calls.append(1) or real_grad(*a, **k))
    for _ in range(2):
        trained_mlp(0, steps=5)
    assert len(calls) == 10  # trained both times
    assert not any(tmp_path.rglob("*"))


@fc.fit_scope
def _fit_slope(seed: int, steps: int = 30) -> float:
    """Adam on ``(w x - 2x)^2``: a tiny training inside a fit scope."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.rand(1, generator=gen, dtype=torch.float64).requires_grad_()
    x = torch.linspace(-1, 1, 16, dtype=torch.float64)
    _adam([w], lambda: torch.mean((w * x - 2 * x) ** 2), steps, lr=0.05, grad_masks={})
    return float(w.detach())


def test_key_changes_with_the_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv(fc.CACHE_ENV, str(tmp_path))
    fits = tmp_path / "fits"
    a = _fit_slope(0)
    first = set(fits.iterdir())
    assert len(first) == 1 and _fit_slope(0) == a and set(fits.iterdir()) == first
    b = _fit_slope(1)
    assert b != a and len(set(fits.iterdir())) == 2
    _fit_slope(0, steps=31)
    assert len(set(fits.iterdir())) == 3
    assert fc.fit_key({"x": 1}) != fc.fit_key({"x": 2})


def test_outside_a_scope_nothing_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv(fc.CACHE_ENV, str(tmp_path))
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    _adam([w], lambda: (w - 1.0).pow(2).sum(), 10, lr=0.1, grad_masks={})
    assert float(w.detach()) > 0 and not (tmp_path / "fits").exists()


def test_estimator_without_a_fixed_random_state_is_refitted(tmp_path, monkeypatch):
    from sklearn.tree import DecisionTreeRegressor

    monkeypatch.setenv(fc.CACHE_ENV, str(tmp_path))
    X = np.random.default_rng(0).uniform(size=(30, 2))
    fc.fit_estimator(DecisionTreeRegressor(), X, X[:, 0])
    assert not (tmp_path / "fits").exists()
    fc.fit_estimator(DecisionTreeRegressor(random_state=0), X, X[:, 0])
    fc.fit_estimator(DecisionTreeRegressor(random_state=0, max_depth=2), X, X[:, 0])
    fc.fit_estimator(DecisionTreeRegressor(random_state=0), X, X[:, 1])
    assert len(list((tmp_path / "fits").iterdir())) == 3  # params and data are part of the key
