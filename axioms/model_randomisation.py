"""model_randomisation: the cascading model-parameter randomisation test (Adebayo et al. 2018, sec. 3.1).

"Sanity checks for saliency maps": re-initialise a network's weights layer by layer from the top (output) to the
bottom; an explanation that reflects the model must change as the model is destroyed. Guided backprop and similar
methods famously do not.

Stage s = 1..L randomises the top s parameterised layers (``nn.Linear``/``nn.Conv*``): each weight and bias is
redrawn from N(0, σ²) with σ the standard deviation of the original weight tensor of that layer (the scale of its
initialisation), from a ``torch.Generator`` seeded with ``RANDOMISATION_SEED + s``. Each randomised network is wrapped
as a ``FunctionModel`` (numpy predict through torch, and the torch form), so every explainer - gradient or
perturbation - is judged on it, with the case's baseline and background.

How the explanation should change (version 2). Adebayo et al. ask that the explanation change when the model is
destroyed, and measure similarity before / after (Spearman of |a|) as "lower is better". As a score that rewards any
explanation unrelated to the model: an explainer redrawn at random for each model has similarity ~0 and passed
(version 1 gave a random control 1.0), and it cannot tell a faithful change from an arbitrary one. An explanation
should change *as the truth changes*: the exact attribution of the randomised model is known, so per stage s (top s
layers randomised) and row x:

    ΔA_s(x) = |a(x; f_s)| - |a(x; f)|      ΔR_s(x) = |R(x; f_s)| - |R(x; f)|      (|.| elementwise)
    c_s(x)  = cos(ΔA_s(x) - mean ΔA_s(x), ΔR_s(x) - mean ΔR_s(x))    (Pearson correlation over the features;
                                                                   0 when the explanation did not change at all)
    score   = max(0, mean over stages s and rows x of c_s(x))

with R the exact reference attribution (``ground_truth_agreement.reference_attribution``: baseline Shapley at the
case baseline, or interventional Shapley over the background for background methods) of the original and of the
randomised model. Magnitudes, as in Adebayo et al.'s main metric (rank correlation of absolute values): how
important each feature is, which is what a saliency map shows (captum's saliency returns |∂f/∂x|); centred over the
features, because Adebayo's question is whether the *relative* importance changes (their rank correlation): a change
shared by every feature (the output's overall size) says nothing about which feature matters, and without centring
"split f(x) - f(b) equally over the features" scored 0.52 by following only the output's size. Pairs where the truth's relative importance does not change (centred ``||ΔR|| <= CHANGE_TOLERANCE`` × the
largest |R| of f and f_s) are skipped. The cosine compares the direction of the change, not its size: it is invariant to
f -> αf + c and fair to methods in other units than Shapley values (a gradient, a LIME coefficient); it is the
change of the explanation, not the explanation, so a method whose ranking of features survives randomisation (the
failure Adebayo et al. show for guided backprop) scores near 0 as Adebayo's test intends, and one whose change
points the way the truth's does scores near 1. The mean is taken before clipping, so an explainer changing at random
averages to ~0 instead of collecting the positive half of its noise.

Pass threshold 0.5: the explanation's change of relative importance correlates with the truth's at least half-way
(Adebayo et al. give no number; their maps "change substantially"); it sits above the floor so no degenerate
explainer passes. Measured (default suite, mean over cases): exact Shapley 1.0, KernelSHAP 1.0, integrated
gradients 0.89, LIME 0.77, the gradient (saliency) 0.74, guided backprop 0.29.

Floor (``ModelRandomisation.floor`` = 0.35, on the mean over the default suite's cases): explainers that do not
depend on the model (zero, constant, identity x - b, a memoised answer, split-equally after centring) change by
exactly 0 or uniformly and score 0; random (redrawn per model) and noise-plus-a-huge-feature average ~0 (<= 0.09 per
case). The sign of the gradient is the highest (0.10 / 0.29 / 0.52 on mlp_base / mlp_trained_additive / min_max,
mean 0.31): |sign ∂f/∂x_i| says which features still reach the output, and randomising ReLU layers kills or revives
units, so it follows part of the truth's change. Every case model has at least 6 features (``_padding.padded``:
dummy features appended, which the truth gives 0), so "exact when d <= 4" is judged as what it is elsewhere. ``image_patch`` (d = 64) has no exact attribution and
is not a case. Re-derived independently in ``tests/test_rederive_checks.py``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from xaicheck.synthetic_models.base import FunctionModel, GroundTruth
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

from .agreement_metrics import cosine_similarity
from ._padding import padded
from ._declared import declared_case, declared_inputs
from ._placed import placed_cases
from .base import Case, Check, CheckResult, Tolerance, register_check
from .ground_truth_agreement import reference_attribution, rows, standard_case, verdict

if TYPE_CHECKING:
    import torch

    from xaicheck.explainers.base import Explainer
    from xaicheck.synthetic_models.base import SyntheticModel
    from xaicheck.synthetic_models.declarations import Placement

__all__ = ["ModelRandomisation", "parameterised_layers", "randomise_top_layers", "randomised_cascade"]

RANDOMISATION_SEED = 1234
#: Model attributes carried over to the randomised twins (they describe the architecture, not the weights).
KEPT_ATTRIBUTES: tuple[str, ...] = ("gradcam_layer_name",)
#: A (stage, row) is skipped when ||ΔR|| is at most this, relative to the larger of ||R(f)||, ||R(f_s)||.
CHANGE_TOLERANCE = Tolerance(rtol=1e-6, atol=1e-12)

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


def change_alignment(A: np.ndarray, A_s: np.ndarray, R: np.ndarray, R_s: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(cos, judged)`` per row: cosine of the explanation's change with the exact attribution's change, and
    whether the truth changed at all (rows where it did not are not judged)."""
    A, A_s, R, R_s = (np.abs(np.asarray(M, dtype=np.float64)) for M in (A, A_s, R, R_s))
    dA, dR = A_s - A, R_s - R
    dA, dR = dA - dA.mean(axis=1, keepdims=True), dR - dR.mean(axis=1, keepdims=True)  # relative importance only
    size = np.maximum(np.abs(R).max(axis=1), np.abs(R_s).max(axis=1))
    judged = np.linalg.norm(dR, axis=1) > CHANGE_TOLERANCE.bound(size)
    return cosine_similarity(dA, dR), judged


@register_check
class ModelRandomisation(Check):
    """Cascading randomisation: mean cosine between the explanation's change and the exact attribution's change."""

    name = "model_randomisation"
    category = "fragility"
    #: Passed when the change correlates with the truth's at 0.5 or more (clearly above the floor, docstring).
    threshold = 0.5
    version = 2
    #: Model-independent explainers score exactly 0, random ~0; the gradient's sign keeps some direction (docstring).
    floor = 0.35
    citation = "Adebayo et al. 2018, Sanity checks for saliency maps (NeurIPS), sec. 3.1"

    def cases(self) -> list[Case]:
        return placed_cases(self.name, self._placed_case)

    def _placed_case(self, model: "SyntheticModel", place: "Placement") -> Case | None:
        """A placed model (padded, ``_padding.padded``) with a torch form and d <= ``MAX_EXACT_FEATURES``: 8 rows
        (``standard_case`` seed 2), its randomised cascade as ``extra['models']``."""
        name = model.name
        model = padded(model)
        if model.torch_module() is None or model.n_features > MAX_EXACT_FEATURES:
            return None
        base = standard_case(self.name, model, place.tiers, n=8, seed=2)
        cascade = randomised_cascade(model)
        return Case(check=self.name, name=name, model=model, X=base.X, baseline=base.baseline,
                    background=base.background, extra={"models": tuple(cascade)}, tiers=place.tiers,
                    description=f"cascading randomisation of {len(cascade)} layers of {name}")

    def cases_for(self, model: "SyntheticModel", suite: str) -> list[Case]:
        """Models with a torch form that has a ``Linear`` / ``Conv`` layer and d <= ``MAX_EXACT_FEATURES`` (each
        randomised twin's exact attribution is enumerated); the declared rows and baseline."""
        if model.n_features > MAX_EXACT_FEATURES:
            return []
        module = model.torch_module()
        if module is None or not parameterised_layers(module):
            return []
        X, background = declared_inputs(model, suite, offset=2)
        cascade = randomised_cascade(model)
        return [declared_case(self.name, model, X, f"cascading randomisation of {len(cascade)} layers",
                              background=background, extra={"models": tuple(cascade)})]

    def evaluate(self, explainer: "Explainer", case: Case, seed: int) -> CheckResult:
        def reference(model: "SyntheticModel") -> np.ndarray:
            return reference_attribution(explainer, model, case.X, baseline=case.baseline,
                                         background=case.background, target=case.target)

        A, R = case.explain(explainer, seed=seed), reference(case.model)
        cos_rows, judged_rows, per_stage = [], [], {}
        for stage, twin in enumerate(case.extra["models"], start=1):
            A_s, R_s = case.explain(explainer, seed=seed, model=twin), reference(twin)
            cos, judged = change_alignment(A, A_s, R, R_s)
            cos_rows.append(cos)
            judged_rows.append(judged)
            per_stage[f"top{stage}"] = {"cos": cos.tolist(), "judged": judged.tolist(),
                                        "change_norm": np.linalg.norm(A_s - A, axis=1).tolist(),
                                        "exact_change_norm": np.linalg.norm(R_s - R, axis=1).tolist(),
                                        "attributions": rows(A_s), "reference": rows(R_s)}
        cos_all, judged_all = np.vstack(cos_rows), np.vstack(judged_rows)  # [stages, n]
        if not judged_all.any():
            return CheckResult.not_applicable(f"{case.id}: randomisation does not change the exact attribution")
        mean_cos = float(cos_all[judged_all].mean())
        measured = max(0.0, mean_cos)
        stage_cos = [float(c[j].mean()) if j.any() else None for c, j in zip(cos_all, judged_all)]
        worst = 1 + min((k for k, v in enumerate(stage_cos) if v is not None), key=lambda k: stage_cos[k])
        evidence = {
            "measured": measured,
            "threshold": self.threshold,
            "floor": self.floor,
            "measured_is": "max(0, mean over stages and rows of Pearson(|a(f_s)| - |a(f)|, |R(f_s)| - |R(f)|) over features)",
            "mean_cos": mean_cos,
            "attributions": rows(A),
            "reference": rows(R),
            "cos_per_stage": stage_cos,
            "pairs_judged": int(judged_all.sum()),
            "per_stage": per_stage,
            "randomisation_seed": RANDOMISATION_SEED,
        }
        evidence["worst_stage"] = worst
        message = verdict(explainer, self.name, case, measured, self.threshold,
                          "mean cosine of the explanation's change with the exact attribution's change",
                          f"stage top{worst} (top {worst} layer(s) randomised): mean cosine {stage_cos[worst - 1]:.2f}")
        return CheckResult.scored(measured, self.threshold, message, evidence)
