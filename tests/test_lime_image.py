"""``lime_image`` (LIME's image explainer, segments = declared patches or pixels) and why ``lime_tabular`` is not
applicable to images (issue 24: tabular LIME over a patch game drew no perturbation and sat below the noise
controls)."""

from __future__ import annotations

import numpy as np
import pytest

from xaicheck.axioms.base import cases_of, get_check
from xaicheck.explainers import get_explainer
from xaicheck.synthetic_models.base import FunctionModel, GroundTruth

W = np.array([2.0, -1.0, 0.5, 0.0, 3.0, -2.0, 1.0, 0.0])


def _linear_image() -> FunctionModel:
    return FunctionModel("linear_image_2x4", "linear", lambda X: X @ W, tuple(f"p{i}" for i in range(8)),
                         GroundTruth(relevant=frozenset(np.flatnonzero(W).tolist())), input_shape=(1, 2, 4))


def test_lime_image_recovers_a_linear_image_model_pixel_by_pixel():
    """On f = w . x every segment's on/off effect is w_i (x_i - b_i): LIME's weighted ridge surrogate (kernel 0.25 on
    the cosine distance, ridge alpha 1) recovers it up to the ridge's shrinkage."""
    model = _linear_image()
    X = np.array([[1.0, 2.0, -1.0, 4.0, 0.5, 1.0, -2.0, 3.0]])
    b = np.full_like(X, 0.25)
    A = get_explainer("lime_image").explain(model, X, baseline=b, seed=0)
    exact = W * (X - b)
    assert np.allclose(A, exact, atol=0.05 * np.abs(exact).max())
    assert np.abs(A[0, W == 0]).max() < 0.05 * np.abs(exact).max()  # the dummies stay near zero


def test_lime_image_is_seeded_and_only_for_images():
    model = _linear_image()
    X, b = np.ones((1, 8)), np.zeros((1, 8))
    lime = get_explainer("lime_image")
    assert np.array_equal(lime.explain(model, X, baseline=b, seed=3), lime.explain(model, X, baseline=b, seed=3))
    flat = FunctionModel("linear_flat", "linear", lambda X: X @ W, tuple(f"x{i}" for i in range(8)),
                         GroundTruth(relevant=frozenset(range(8))))
    ok, why = lime.can_explain(flat)
    assert not ok and "explains images" in why


def _image_cases(n: int = 3):
    out = [c for c in cases_of(get_check("ground_truth_agreement"), 0, "default") if c.model.domain == "image"
           and getattr(c.model, "patches", None) is not None]
    assert out
    return out[:n]


def test_on_patch_models_lime_image_finds_the_truth_and_lime_tabular_declines():
    check = get_check("ground_truth_agreement")
    for case in _image_cases():
        ok, why = get_explainer("lime_tabular").can_explain(case.model)
        assert not ok and "lime_image" in why
        good = check.run(get_explainer("lime_image"), case)
        noise = check.run(get_explainer("random"), case)
        assert good.status == "ok" and good.score > 0.8, (case.name, good.score)
        assert good.score > noise.score + 0.5, (case.name, good.score, noise.score)


@pytest.mark.parametrize("name", ["lime_image"])
def test_lime_image_draws_no_progress_bar(name, capfd):
    get_explainer(name).explain(_linear_image(), np.ones((1, 8)), baseline=np.zeros((1, 8)), seed=0)
    out, err = capfd.readouterr()
    assert "it/s" not in err and "it/s" not in out
