"""model_randomisation: the cascading model-parameter randomisation test (Adebayo et al. 2018, sec. 3.1).

"Sanity checks for saliency maps": re-initialise a network's weights layer by layer from the top (output) to the
bottom; an explanation that reflects the model must change as the model is destroyed. Guided backprop and similar
methods famously do not.

Stage s = 1..L randomises the top s parameterised layers (``nn.Linear``/``nn.Conv*``): each weight and bias is
redrawn from N(0, σ²) with σ the standard deviation of the original weight tensor of that layer (the scale of its
initialisation), from a ``torch.Generator`` seeded with ``RANDOMISATION_SEED + s``. Each randomised network is wrapped
as a ``FunctionModel`` (numpy predict through torch, and the torch form), so every explainer - gradient or
perturbation - is judged on it, with the case's baseline and background.

Similarity (Adebayo et al. use Spearman rank correlation of absolute attributions) per stage and row:
``ρ_s = Spearman(|a(x; f)|, |a(x; f_s)|)`` over the features the ORIGINAL model depends on
(``ground_truth.relevant``): features the original model ignores get ~0 from any faithful explainer and would
inflate ρ through shared ties. Ties within ``RANK_TOLERANCE`` (relative to the row's largest |a| over those
compared features) are ties; a constant explanation of both models counts as ρ = 1 (it did not change), exactly one
constant as ρ = 0. Like Adebayo et al.'s "absolute value" rank correlation, signs are ignored: an explanation whose
ranking of importance survives randomisation is insensitive to the model even if its signs flip.

Adebayo et al. assume the randomised model's explanation should be unrelated to the original one. On our small
networks that is not so: randomising only the output layer leaves the hidden features, and the EXACT attribution
itself keeps part of its ranking (measured, mean ρ of exact baseline Shapley per stage: ``mlp_base`` 0.62, 0.31,
0.37; ``mlp_trained_additive`` 0.50, 0.81; d = 4, 3 relevant features). So an explanation is penalised only for
similarity beyond the truth's:
``ρ*_s`` = the same Spearman for the exact reference attribution (``ground_truth_agreement.reference_attribution``:
baseline Shapley, or interventional Shapley for background explainers) where enumeration is possible, else 0
(Adebayo's assumption; ``image_patch``, d = 64).

    score = 1 - mean over stages s and rows of max(0, ρ_s - max(0, ρ*_s))

1 = the explanation changes at least as much as the exact attribution does; 0 = it stays the same while the exact
attribution becomes unrelated. An explainer that ignores the model (constant, input-only, a fixed random draw)
scores the mean of max(0, ρ*_s): it can only pass where randomisation does not change the truth either.
Why the subtraction is sound: ρ*_s is what a perfect explainer would show, so the test never fails an explanation for
similarity the model itself keeps, and it stays one-sided (changing MORE than the truth is not penalised: that is
ground_truth_agreement's business, as in Adebayo's test, which a random explanation passes too). The comparison is
per stage and row, and ρ*_s is clipped at 0 so an anti-correlated truth does not demand anti-correlated
explanations. Re-derived independently in ``tests/test_rederive_checks.py``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.base import FunctionModel, GroundTruth
from xaicheck.synthetic_models.registry import get_model
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

from .agreement_metrics import rank_correlation
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import reference_attribution, rows, standard_case, verdict

if TYPE_CHECKING:
    import torch

    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = ["ModelRandomisation", "parameterised_layers", "randomise_top_layers", "randomised_cascade"]

RANDOMISATION_SEED = 1234
#: Model attributes carried over to the randomised twins (they describe the architecture, not the weights).
KEPT_ATTRIBUTES: tuple[str, ...] = ("gradcam_layer_name",)
#: Relative (to the row's largest |attribution|) tolerance under which attributions are tied when ranked.
RANK_TOLERANCE = Tolerance(rtol=1e-6, atol=0.0)

_QUICK, _DEFAULT, _FULL = frozenset({"quick", "default", "full"}), frozenset({"default", "full"}), frozenset({"full"})
CASE_MODELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("mlp_base", _QUICK),
    ("mlp_trained_additive", _DEFAULT),
    ("image_patch", _FULL),
    ("mlp_d8", _DEFAULT),  # scaled ReLU MLP (synthetic_models/scaled.py)
    ("trained_mlp_d10", _DEFAULT),  # trained on a planted function (synthetic_models/trained_tabular.py)
)


def parameterised_layers(module: "torch.nn.Module") -> list["torch.nn.Module"]:
    """Layers with a ``weight`` tensor (``nn.Linear``, ``nn.Conv1d/2d/3d``) in forward-definition order."""
    import torch.nn as nn

    return [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]


def randomise_top_layers(module: "torch.nn.Module", n_top: int, seed: int) -> "torch.nn.Module":
    """A float64 copy of ``module`` whose top ``n_top`` parameterised layers are re-drawn (see module docstring)."""
    import torch

    out = copy.deepcopy(module).double()
    layers = parameterised_layers(out)
    if not 1 <= n_top <= len(layers):
        raise ValueError(f"Expected n_top in [1, {len(layers)}] but got n_top={n_top!r}")
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for layer in layers[::-1][:n_top]:
            sigma = float(layer.weight.std()) if layer.weight.numel() > 1 else 1.0
            sigma = sigma if sigma > 0 else 1.0
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen, dtype=torch.float64) * sigma)
            if getattr(layer, "bias", None) is not None:
                layer.bias.copy_(torch.randn(layer.bias.shape, generator=gen, dtype=torch.float64) * sigma)
    return out.eval()


def _wrap(module: "torch.nn.Module", original: "SyntheticModel", stage: int) -> FunctionModel:
    import torch

    def predict(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))).numpy()

    d = original.n_features
    twin = FunctionModel(
        f"{original.name}~randomised_top{stage}", "randomised", predict, original.feature_names,
        GroundTruth(relevant=frozenset(range(d)), notes="cascading randomisation: ground truth unknown"),
        domain=original.domain, sampler=original.sample, torch_factory=lambda: copy.deepcopy(module),
        n_outputs=original.n_outputs, input_shape=original.input_shape,
        spec={"randomised_from": original.name, "top_layers": stage},
    )
    for attr in KEPT_ATTRIBUTES:  # the architecture is unchanged, so layer names still point at the same layers
        if getattr(original, attr, None) is not None:
            setattr(twin, attr, getattr(original, attr))
    return twin


def randomised_cascade(model: "SyntheticModel", seed: int = RANDOMISATION_SEED) -> list[FunctionModel]:
    """The cascade: one randomised twin per stage (top 1 layer, top 2, ..., all layers)."""
    module = model.torch_module()
    if module is None:
        raise ValueError(f"model {model.name!r} has no torch form to randomise")
    n_layers = len(parameterised_layers(module))
    if n_layers == 0:
        raise ValueError(f"model {model.name!r}: its torch module has no Linear/Conv layer to randomise")
    return [_wrap(randomise_top_layers(module, s, seed + s), model, s) for s in range(1, n_layers + 1)]


@register_check
class ModelRandomisation(Check):
    """Cascading randomisation: 1 - mean over stages and rows of the Spearman similarity in excess of the truth's."""

    name = "model_randomisation"
    category = "fragility"
    threshold = 0.75
    version = 1
    citation = "Adebayo et al. 2018, Sanity checks for saliency maps (NeurIPS), sec. 3.1"

    def cases(self) -> list[Case]:
        out = []
        for name, tiers in CASE_MODELS:
            model = get_model(name)
            if model.torch_module() is None:
                continue
            base = standard_case(self.name, model, tiers, n=2 if model.domain == "image" else 8, seed=2)
            cascade = randomised_cascade(model)
            out.append(Case(check=self.name, name=name, model=model, X=base.X, baseline=base.baseline,
                            background=base.background, extra={"models": tuple(cascade)}, tiers=tiers,
                            description=f"cascading randomisation of {len(cascade)} layers of {name}"))
        return out

    def _similarity(self, A: np.ndarray, B: np.ndarray, relevant: list[int]) -> np.ndarray:
        a, b = A[:, relevant], B[:, relevant]
        scale_a = np.abs(a).max(axis=1, keepdims=True)
        scale_b = np.abs(b).max(axis=1, keepdims=True)
        a = a / np.where(scale_a > 0, scale_a, 1.0)
        b = b / np.where(scale_b > 0, scale_b, 1.0)
        return rank_correlation(a, b, absolute=True, atol=RANK_TOLERANCE.rtol)

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        relevant = sorted(case.model.ground_truth.relevant) or list(range(case.model.n_features))
        exact = case.model.n_features <= MAX_EXACT_FEATURES

        def reference(model: "SyntheticModel") -> np.ndarray:
            return reference_attribution(explainer, model, case.X, baseline=case.baseline,
                                         background=case.background, target=case.target)

        A = case.explain(explainer, seed=seed)
        R = reference(case.model) if exact else None
        rho_rows, true_rows, per_stage = [], [], {}
        for stage, twin in enumerate(case.extra["models"], start=1):
            A_s = case.explain(explainer, seed=seed, model=twin)
            rho = self._similarity(A, A_s, relevant)
            rho_true = self._similarity(R, reference(twin), relevant) if R is not None else np.zeros_like(rho)
            rho_rows.append(rho)
            true_rows.append(rho_true)
            per_stage[f"top{stage}"] = {"rho": rho.tolist(), "rho_exact": rho_true.tolist(),
                                        "attributions": rows(A_s)}
        rho_all, true_all = np.vstack(rho_rows), np.vstack(true_rows)  # [stages, n]
        excess = np.maximum(0.0, rho_all - np.maximum(0.0, true_all))
        measured = float(1.0 - excess.mean())
        worst = int(np.argmax(excess.mean(axis=1))) + 1
        evidence = {
            "measured": measured,
            "threshold": self.threshold,
            "attributions": rows(A),
            "features_compared": relevant,
            "rho_per_stage": rho_all.mean(axis=1).tolist(),
            "rho_exact_per_stage": true_all.mean(axis=1).tolist(),
            "excess_per_stage": excess.mean(axis=1).tolist(),
            "exact_reference": "none (assumed 0)" if R is None else "exact Shapley (see ground_truth_agreement)",
            "per_stage": per_stage,
            "randomisation_seed": RANDOMISATION_SEED,
        }
        evidence["worst_stage"] = worst
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "1 - mean excess Spearman similarity (explanation vs exact) after randomisation",
                          f"stage top{worst} (top {worst} layer(s) randomised): mean Spearman of |a| before/after "
                          f"{rho_all[worst - 1].mean():.2f} vs exact {true_all[worst - 1].mean():.2f}")
        return CheckResult.scored(measured, self.threshold, message, evidence)
