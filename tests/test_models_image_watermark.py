"""The digits CNN with a planted watermark (synthetic_models/image_watermark.py): its reliance on the watermark is
proven by intervention, the localisation rows are misclassified because of it, and training is deterministic."""

from __future__ import annotations

import numpy as np

from xaicheck.synthetic_models.image_watermark import (WATERMARK_CLASS, _network, add_watermark, digits_split,
                                                       localisation_rows, reliance, watermark_cnn, watermark_mask)
from xaicheck.synthetic_models.registry import get_model


def test_watermark_decides_the_class_by_intervention() -> None:
    model = watermark_cnn(0)
    r = reliance(model)
    assert r["flip_to_watermark"] >= 0.95  # adding the watermark makes other digits class 1
    assert r["restored"] >= 0.9 and r["clean_accuracy"] >= 0.9  # without it the model reads the digit
    data = digits_split(0)
    assert np.asarray(data["X_test"])[:, watermark_mask()].mean() < 0.05  # a corner the digits leave dark
    assert np.all(np.asarray(data["y_train"])[np.asarray(data["marked"])] == WATERMARK_CLASS)


def test_localisation_rows_are_misclassified_because_of_the_watermark() -> None:
    model = watermark_cnn(0)
    X = localisation_rows(model, 8, np.random.default_rng(0))
    assert len(X) == 8 and np.all(X[:, watermark_mask()] == 1.0)
    assert np.all(model.predict(X).argmax(axis=1) == WATERMARK_CLASS)
    data = digits_split(0)
    # recover each row's clean image and true digit from the held-out set, then remove the watermark
    X_test, y_test = np.asarray(data["X_test"]), np.asarray(data["y_test"])
    marked = add_watermark(X_test)
    idx = [int(np.flatnonzero((marked == row).all(axis=1))[0]) for row in X]
    clean = X_test[idx]
    assert np.all(y_test[idx] != WATERMARK_CLASS)
    assert np.mean(model.predict(clean).argmax(axis=1) != WATERMARK_CLASS) >= 0.9
    # the 4 mask pixels alone carry class 1: removing them lowers its logit on every row
    gain = model.predict(X)[:, WATERMARK_CLASS] - model.predict(clean)[:, WATERMARK_CLASS]
    assert np.all(gain > 0)


def test_training_is_deterministic_and_registered() -> None:
    model = get_model("digits_watermark_cnn")
    assert model is watermark_cnn(0) and model.ground_truth.mask.sum() == 4 and model.n_outputs == 10
    import torch

    X = np.asarray(digits_split(0)["X_test"])[:32]
    net = _network(0)  # retrained from scratch
    with torch.no_grad():
        again = net(torch.tensor(X)).numpy()
    assert again.tobytes() == model.predict(X).tobytes()
    assert "torch" in model.forms and model.gradcam_layer_name == "conv2"
