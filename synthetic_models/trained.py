"""Models fitted to known functions: trees (exact fits), a boosted ensemble and a small trained MLP.

Each keeps the TRUE function beside the fitted model (``true_function``, ``true_ground_truth``) and ``model_error``
(R² and MSE of the fitted model against the true function on held-out draws), so an attribution's error can be split
into explainer error and model error.

``tree_cough_fever`` / ``tree_cough_fever_10_90``: Lundberg, Erion & Lee 2018, "Consistent individualized feature
attribution for tree ensembles", Fig. 1. Features ``(cough, fever)`` on ``{0,1}²``, uniform. Model A =
``80·[C ∧ F]`` as a tree splitting on Fever first, then Cough; model B = ``80·[C ∧ F] + 10·[C]``, whose greedy tree
splits on Cough first (its root split removes more squared error: 3200 vs 4100 left). That change of split order is
what makes path attribution (Saabas) inconsistent: at ``x = (1, 1)`` Saabas gives Cough 40 in A but 25 in B, although B
depends more on Cough; Tree SHAP gives (30, 30) and (35, 30). Both trees reproduce their truth table exactly. Leaves
are fitted on the four truth-table rows with unit weight, so node covers match the uniform distribution.
``ground_truth.exact_attribution`` is the baseline Shapley value of the true function (product closed form), which
the tree equals on ``{0,1}²`` (binary inputs and baselines only; between 0 and 1 the tree is a step at 0.5).
For A the two root splits tie; sklearn breaks ties through ``random_state``, and we take the first seed whose tree
puts Fever at the root (and check it).

``gbm_additive``: GradientBoostingRegressor fitted to ``additive_nonlinear`` (sin x0 + |x1| + x2²); x3 is held constant
in the training data, so no tree can split on it and it is an exact dummy of the fitted model.
``mlp_trained_additive``: a 4-16-1 ReLU MLP trained (full-batch Adam, 300 steps, seeded, one thread) on ``linear_dummy``
(2x0 - x1 + 0.5x2 + 0.3); its first-layer weights for x3 are zero by construction (exact dummy).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ._fit_cache import array_digest, fit_estimator, fit_scope, train_in_place
from .additive import additive_terms, product_shapley
from .base import FunctionModel, GroundTruth, binary_sampler, uniform_sampler
from .declarations import Placement
from .registry import register_model

if TYPE_CHECKING:
    import torch

__all__ = [
    "TrainedModel",
    "TRUTH_TABLE",
    "cough_fever_function",
    "cough_fever_10_90_function",
    "fit_exact_tree",
    "regression_error",
    "tree_cough_fever",
    "tree_cough_fever_10_90",
    "gbm_additive",
    "mlp_trained_additive",
]

FAMILY = "trained"
COUGH, FEVER = 0, 1
#: All four (cough, fever) inputs.
TRUTH_TABLE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
TRUTH_TABLE.setflags(write=False)
N_TEST = 1000


class TrainedModel(FunctionModel):
    """A fitted model; ``true_function`` / ``true_ground_truth`` describe what it was fitted to."""

    sklearn_estimator: Any = None
    is_tree_model: bool = False
    true_function: Callable[[np.ndarray], np.ndarray]
    true_ground_truth: GroundTruth
    model_error: dict[str, float]


def regression_error(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """``{"r2", "mse", "n_test"}`` of ``predicted`` against ``truth``."""
    resid = np.asarray(predicted, dtype=np.float64) - truth
    mse = float(np.mean(resid**2))
    var = float(np.var(truth))
    return {"r2": 1.0 - mse / var if var > 0 else float(mse == 0), "mse": mse, "n_test": int(truth.size)}


def cough_fever_function(X: np.ndarray) -> np.ndarray:
    """Lundberg model A: ``80·cough·fever`` (``[C ∧ F]·80`` on {0,1}²)."""
    return 80.0 * X[:, COUGH] * X[:, FEVER]


def cough_fever_10_90_function(X: np.ndarray) -> np.ndarray:
    """Lundberg model B: ``80·cough·fever + 10·cough``."""
    return 80.0 * X[:, COUGH] * X[:, FEVER] + 10.0 * X[:, COUGH]


def fit_exact_tree(y: np.ndarray, root_feature: int | None = None, max_seeds: int = 64) -> Any:
    """A DecisionTreeRegressor fitted to the truth table, reproducing ``y`` exactly, with ``root_feature`` at the root.

    Tries ``random_state = 0, 1, ...`` (sklearn's tie-break between equally good splits) until the root splits on
    ``root_feature``; raises if none of ``max_seeds`` does (e.g. when the other split is strictly better).
    """
    from sklearn.tree import DecisionTreeRegressor

    for seed in range(max_seeds):
        tree = DecisionTreeRegressor(random_state=seed).fit(TRUTH_TABLE, y)
        if root_feature is None or int(tree.tree_.feature[0]) == root_feature:
            if not np.array_equal(tree.predict(TRUTH_TABLE), y):
                raise RuntimeError(f"tree does not reproduce the truth table {y.tolist()}")
            return tree
    raise RuntimeError(f"no random_state < {max_seeds} puts feature {root_feature} at the root for y={y.tolist()}")


def _tree_model(name: str, true_fn: Callable[[np.ndarray], np.ndarray], pairs: dict, linear: dict,
                root_feature: int | None, notes: str) -> TrainedModel:
    y = true_fn(TRUTH_TABLE)
    tree = fit_exact_tree(y, root_feature)

    def exact(X: np.ndarray, B: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        B = np.broadcast_to(np.asarray(B, dtype=np.float64), X.shape)
        out = product_shapley(pairs, X, B)
        for i, c in linear.items():
            out[:, i] += c * (X[:, i] - B[:, i])
        return out

    gt = GroundTruth(relevant=frozenset({COUGH, FEVER}), interactions=(frozenset({COUGH, FEVER}),),
                     exact_attribution=exact, notes=notes)
    model = TrainedModel(name, FAMILY, lambda X: tree.predict(X), ("cough", "fever"), gt, domain="binary",
                         sampler=binary_sampler(2),
                         spec={"kind": "decision_tree", "fitted_to": name.removeprefix("tree_"),
                               "root_feature": int(tree.tree_.feature[0])})
    model.sklearn_estimator = tree
    model.is_tree_model = True
    model.true_function = true_fn
    model.true_ground_truth = gt
    model.model_error = regression_error(tree.predict(TRUTH_TABLE), y)
    return model


# 80*[x0 > .5 and x1 > .5] is symmetric in x0, x1 everywhere, which its ground truth does not declare. Not in
# ground_truth_agreement: against baseline Shapley every row is tied or zero, a case a constant explanation cannot fail
@register_model("tree_cough_fever", placed={
    "completeness": "quick",
    "symmetry": Placement("default", params={"symmetric_groups": ((0, 1),)}),
})
def tree_cough_fever() -> TrainedModel:
    """Lundberg Fig. 1 model A: tree for ``80·[C ∧ F]`` splitting on Fever, then Cough."""
    return _tree_model("tree_cough_fever", cough_fever_function, {(COUGH, FEVER): 80.0}, {}, FEVER,
                       "tree for [cough and fever]*80, Fever at root (Lundberg 2018 model A)")


# a small tree (d <= 4), Lundberg 2018's model B: judged against exact Shapley in the full suite (and by the
# consistency gate and the lundberg2018 / compare_xai2022 reproductions in every run)
@register_model("tree_cough_fever_10_90", placed={
    "completeness": "default",
    "ground_truth_agreement": "full",
})
def tree_cough_fever_10_90() -> TrainedModel:
    """Lundberg Fig. 1 model B: tree for ``80·[C ∧ F] + 10·[C]`` (greedy fit splits on Cough first)."""
    return _tree_model("tree_cough_fever_10_90", cough_fever_10_90_function, {(COUGH, FEVER): 80.0},
                       {COUGH: 10.0}, COUGH, "tree for [C and F]*80 + [C]*10, Cough at root (Lundberg 2018 model B)")


def _additive_ground_truth() -> GroundTruth:
    from .registry import get_model

    return get_model("additive_nonlinear").ground_truth


# x3 constant in training: no tree splits on it (an exact dummy)
@register_model("gbm_additive", placed={
    "completeness": "default",
    "dummy": "quick",
    "ground_truth_agreement": "full",
    "explainer_agreement": "full",
})
def gbm_additive(n_train: int = 400, seed: int = 0) -> TrainedModel:
    """GradientBoostingRegressor (60 depth-3 trees) fitted to ``sin x0 + |x1| + x2²`` on ``[-2, 2]^4``."""
    from sklearn.ensemble import GradientBoostingRegressor

    def true_fn(X: np.ndarray) -> np.ndarray:
        return additive_terms(X).sum(axis=1)

    rng = np.random.default_rng(seed)
    X_train = rng.uniform(-2.0, 2.0, size=(n_train, 4))
    X_train[:, 3] = 0.0  # constant in training: no split on x3 is possible
    gbm = GradientBoostingRegressor(n_estimators=60, max_depth=3, learning_rate=0.1, random_state=seed)
    gbm = fit_estimator(gbm, X_train, true_fn(X_train))
    used = frozenset(int(f) for est in gbm.estimators_.ravel() for f in est.tree_.feature if f >= 0)
    gt = GroundTruth(relevant=used, dummy=frozenset(range(4)) - used,
                     notes="GBM fitted to sin(x0)+|x1|+x2^2; x3 constant in training => exact dummy")
    model = TrainedModel("gbm_additive", FAMILY, gbm.predict, ("x0", "x1", "x2", "x3"), gt,
                         sampler=uniform_sampler(4, -2.0, 2.0),
                         spec={"kind": "gbm", "fitted_to": "additive_nonlinear", "n_estimators": 60, "max_depth": 3,
                               "n_train": n_train, "seed": seed})
    model.sklearn_estimator = gbm
    model.is_tree_model = True
    model.true_function = true_fn
    model.true_ground_truth = _additive_ground_truth()
    X_test = np.random.default_rng(seed + 1).uniform(-2.0, 2.0, size=(N_TEST, 4))
    model.model_error = regression_error(gbm.predict(X_test), true_fn(X_test))
    return model


LINEAR_W = (2.0, -1.0, 0.5, 0.0)
LINEAR_B = 0.3


def _adam(params: list, loss_fn: Callable[[], Any], steps: int, lr: float, grad_masks: dict,
          betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
    """Full-batch Adam (Kingma & Ba 2015), written out: ``torch.optim``'s first step costs seconds of set-up.

    ``grad_masks[k]`` multiplies the gradient of ``params[k]`` (frozen entries stay exactly at their value).
    Inside a ``_fit_cache.fit_scope`` function the trained values are cached on disk (``_fit_cache``).
    """
    import torch

    def train() -> None:
        m = [torch.zeros_like(p) for p in params]
        v = [torch.zeros_like(p) for p in params]
        for t in range(1, steps + 1):
            grads = torch.autograd.grad(loss_fn(), params)
            with torch.no_grad():
                for k, (p, g) in enumerate(zip(params, grads)):
                    if k in grad_masks:
                        g = g * grad_masks[k]
                    m[k].mul_(betas[0]).add_(g, alpha=1 - betas[0])
                    v[k].mul_(betas[1]).addcmul_(g, g, value=1 - betas[1])
                    m_hat = m[k] / (1 - betas[0] ** t)
                    v_hat = v[k] / (1 - betas[1] ** t)
                    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))

    masks = {int(k): array_digest(torch.as_tensor(g).detach().cpu().numpy()) for k, g in grad_masks.items()}
    train_in_place(params, train, {"optimizer": "adam", "steps": steps, "lr": lr, "betas": list(betas), "eps": eps,
                                   "grad_masks": masks})


def train_masked_mlp(X: "torch.Tensor", y: "torch.Tensor", gen: "torch.Generator", hidden: int, steps: int,
                     dead: Sequence[int]) -> "torch.nn.Module":
    """A ``d``-``hidden``-1 ReLU MLP fitted to ``(X, y)`` by full-batch Adam (lr 0.02, ``steps`` steps, one thread),
    whose first-layer weights from the ``dead`` inputs are zero at initialisation and stay zero (masked gradients):
    those inputs are exact dummies of the trained network. The layers are initialised as torch does,
    U(±1/sqrt(fan_in)), from ``gen`` (after whatever the caller drew from it), so the same generator state gives the
    same bits."""
    import torch
    from torch import nn

    first, last = nn.Linear(X.shape[1], hidden).double(), nn.Linear(hidden, 1).double()
    for layer in (first, last):
        bound = 1.0 / layer.in_features**0.5
        nn.init.uniform_(layer.weight, -bound, bound, generator=gen)
        nn.init.uniform_(layer.bias, -bound, bound, generator=gen)
    mask = torch.ones_like(first.weight)
    mask[:, list(dead)] = 0.0
    with torch.no_grad():
        first.weight.mul_(mask)
    net = nn.Sequential(first, nn.ReLU(), last, nn.Flatten(0))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same bits on any machine, and no contention on tiny tensors
    try:
        _adam(list(net.parameters()), lambda: torch.mean((net(X) - y) ** 2), steps, lr=0.02, grad_masks={0: mask})
    finally:
        torch.set_num_threads(threads)
    if torch.any(first.weight[:, list(dead)] != 0):
        raise RuntimeError(f"the weights of inputs {list(dead)} left zero during training")
    return net.eval()


@fit_scope
def _train_mlp(seed: int, n_train: int, steps: int, hidden: int) -> "torch.nn.Module":
    import torch

    gen = torch.Generator().manual_seed(seed)
    w, b = torch.tensor(LINEAR_W, dtype=torch.float64), LINEAR_B
    X = torch.rand(n_train, 4, generator=gen, dtype=torch.float64) * 2 - 1
    y = X @ w + b
    return train_masked_mlp(X, y, gen, hidden, steps, dead=(3,))  # x3 never reaches the network


@register_model("mlp_trained_additive", placed={
    "model_randomisation": "default",
})
def mlp_trained_additive(seed: int = 0, n_train: int = 256, steps: int = 300, hidden: int = 16) -> TrainedModel:
    """A 4-16-1 ReLU MLP trained on ``2x0 - x1 + 0.5x2 + 0.3`` over ``[-1, 1]^4``; x3 is an exact dummy."""
    import torch

    net = _train_mlp(seed, n_train, steps, hidden)

    def fn(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.as_tensor(X, dtype=torch.float64)).numpy()

    w = np.array(LINEAR_W)

    def true_fn(X: np.ndarray) -> np.ndarray:
        return X @ w + LINEAR_B

    gt = GroundTruth(relevant=frozenset({0, 1, 2}), dummy=frozenset({3}),
                     notes="MLP trained on 2x0 - x1 + 0.5x2 + 0.3; x3 weights zero => exact dummy")
    true_gt = GroundTruth(relevant=frozenset({0, 1, 2}), dummy=frozenset({3}),
                          exact_attribution=lambda X, B: w * (np.asarray(X) - B), notes="linear_dummy")
    model = TrainedModel("mlp_trained_additive", FAMILY, fn, ("x0", "x1", "x2", "x3"), gt,
                         sampler=uniform_sampler(4, -1.0, 1.0), torch_factory=lambda: copy.deepcopy(net),
                         spec={"kind": "trained_mlp", "fitted_to": "linear_dummy", "hidden": hidden,
                               "steps": steps, "n_train": n_train, "seed": seed})
    model.true_function = true_fn
    model.true_ground_truth = true_gt
    X_test = np.random.default_rng(seed + 1).uniform(-1.0, 1.0, size=(N_TEST, 4))
    model.model_error = regression_error(fn(X_test), true_fn(X_test))
    return model
