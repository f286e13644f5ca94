"""captum gradient and path attribution methods (Kokhlikyan et al. 2020), all ``requires="torch"``.

Each adapter runs captum on ``model.torch_module()`` (float64, eval mode) wrapped so that it returns the explained
scalar output ``[n]`` (the ``target`` column for multi-output models), and converts the attributions to numpy.

Choices (recorded in ``settings``):
- ``saliency`` returns the *signed* gradient ∂f/∂x_i (captum ``abs=False``) so that "positive pushes the output up"
  holds for every explainer; Simonyan et al. 2014 take |∂f/∂x_i|, which only loses the sign.
- ``integrated_gradients``: IG_i = (x_i - b_i) ∫_0^1 ∂f/∂x_i(b + α(x - b)) dα (Sundararajan et al. 2017), with
  ``n_steps=64`` Gauss-Legendre nodes (captum's default rule): exact for polynomial integrands of degree ≤ 127 along
  the path (so for smooth nets the completeness error is far below Riemann rules at the same cost); for piecewise-
  linear ReLU nets the integrand is piecewise constant and every rule has an O(1/n_steps) error, which the
  completeness check then measures. Measured mean |Σ IG - (f(x) - f(b))| over 64 random pairs, 64 steps,
  Gauss-Legendre vs trapezoid: mlp_base 7.8e-3 vs 9.2e-3, additive_nonlinear 8.3e-3 vs 2.4e-2,
  sundararajan_pair_a 4.5e-3 vs 9.2e-3.
- ``deeplift`` uses the Rescale rule (Shrikumar et al. 2017) with captum's ``multiply_by_inputs=True``. captum applies
  the rule only to *module* nonlinearities (``nn.ReLU``); a functional ``torch.relu`` silently falls back to the
  plain gradient at x, i.e. input x gradient relative to the baseline — see the tests.
- ``deeplift_shap`` averages DeepLift over every background row as baseline (Lundberg & Lee 2017); captum refuses a
  one-row background, which is then passed twice (the average over two identical rows is that row's DeepLift);
  ``gradient_shap`` (expected gradients, Erion et al. 2021) draws ``n_samples=64`` (baseline, α) pairs, ``stdevs=0``.
- Seeding: captum draws from torch's generator and (GradientShap's α) numpy's legacy global one; both are seeded
  for the call and restored afterwards.
- ``smoothgrad`` (Smilkov et al. 2017) averages the signed gradient over ``nt_samples=32`` copies with N(0, 0.15²)
  noise (15% of a unit input range, the paper's 10-20% recommendation); ``smoothgrad_ig`` the same with IG
  (``nt_samples=16``, IG ``n_steps=32``).
- ``lrp``: captum's defaults, the epsilon rule (ε=1e-9) on ``nn.Linear``/``nn.Conv2d`` and pass-through on ``nn.ReLU``
  (Bach et al. 2015); biases absorb relevance, so LRP is not complete. Pure reshapes (``nn.Flatten``, ``nn.Unflatten``)
  get the epsilon rule too: with identity weights R_in = x · reshape(R_out / z_out) = R_out, i.e. relevance passes
  through unchanged (captum's ``IdentityRule`` cannot be used: it returns the output-shaped relevance). Any other
  module without a rule (softmax, products) would make captum raise, so ``can_explain`` refuses such a model up front
  (the cell is *not applicable*, with the module type in the reason) rather than recording a predictable error: it
  walks the leaf modules exactly as captum's ``LRP._get_layers`` does and accepts a type only if captum has a rule for
  it (``captum.attr._core.lrp.SUPPORTED_LAYERS_WITH_RULES``), passes it through
  (``SUPPORTED_NON_LINEAR_LAYERS``), the module already carries a ``rule``, or it is a reshape given one here. Rules
  are attached to a deep copy of the module.
- LRP rules as settings (captum's rules, Montavon et al. 2019, "Layer-wise relevance propagation: an overview"), on
  every ``nn.Linear`` / ``nn.Conv2d``, with z_j = Σ_i a_i w_ij (+ b_j) the layer's pre-activation and
  R_i = Σ_j a_i w'_ij / (z'_j + ε·sign z'_j) · R_j:
  ``lrp`` (``rule="epsilon"``, ε = 1e-9: practically LRP-0 with the bias in the denominator);
  ``lrp_0`` (``rule="zero"``: captum's ``GammaRule(gamma=0, set_bias_to_zero=True)``, i.e. LRP-0 with the biases
  left out of the denominators, z'_j = Σ_i a_i w_ij, so relevance is conserved layer by layer and Σ_i R_i = f(x);
  on a bias-free ReLU network it equals gradient x input);
  ``lrp_epsilon`` (``rule="epsilon"``, ε = 0.25: the denominator is stabilised, relevance of weak, contradictory
  units is absorbed); ``lrp_gamma`` (``rule="gamma"``, γ = 0.25: w' = w + γ w⁺ favours positive contributions).
- Any adapter here can be configured: ``get_explainer("integrated_gradients").with_settings(n_steps=500,
  method="riemann_trapezoid")`` returns a new explainer (named ``integrated_gradients[method=...,n_steps=500]``
  unless a name is given) whose ``settings`` record what it ran with (``describe()`` -> provenance). Unknown keys
  and integration methods are refused with the valid ones named. Pitfall (captum 0.9): ``riemann_trapezoid`` puts
  its n nodes at linspace(0, 1, n) but weighs them 1/n (ends halved), weights summing to 1 - 1/n, so IG with it
  falls short by (n - 1)/n even on a linear model (the trapezoid figures above include that bias); the other rules'
  weights sum to 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from . import _expected_reasons as why
from .base import Capabilities, ExpectedFailure, Explainer, register
from .torch_utils import ScalarOutput, as_tensor, numpy_global_seed, quiet_captum, to_numpy, torch_module_of, torch_seed

if TYPE_CHECKING:
    import torch

    from xaicheck.synthetic_models.base import SyntheticModel

__all__ = [
    "CaptumGradientExplainer",
    "IG_METHODS",
    "IG_SETTINGS",
    "LRP_RULES",
    "lrp_rule",
    "captum_method",
    "explained_module",
    "lrp_unsupported_layers",
]

IG_SETTINGS: dict[str, Any] = {"n_steps": 64, "method": "gausslegendre"}
#: captum's integration rules for IG (``captum.attr._utils.approximation_methods``).
IG_METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
#: LRP rules by name and the settings each takes.
LRP_RULES: dict[str, tuple[str, ...]] = {"epsilon": ("epsilon",), "zero": (), "gamma": ("gamma",)}
NOISE_STDEV = 0.15


def explained_module(model: "SyntheticModel", target: int | None, *, fresh: bool = False) -> "torch.nn.Module":
    """The model's torch module returning the explained scalar output ``[n]``."""
    return ScalarOutput(torch_module_of(model, fresh=fresh), target)


class CaptumGradientExplainer(Explainer):
    """A captum attribution class run on the explained torch module; the instances are declared as data below."""

    library = "captum"

    def __init__(self, name: str, family: str, method: str, capabilities: Capabilities,
                 settings: dict[str, Any], attribute_kwargs: dict[str, Any] | None = None,
                 noise_tunnel: bool = False, description: str = "",
                 expected_failures: tuple[ExpectedFailure, ...] = ()) -> None:
        self.name = name
        self.family = family  # type: ignore[assignment]
        self.method = method
        self.capabilities = capabilities
        self.settings = dict(settings)
        self.attribute_kwargs = dict(attribute_kwargs or {})
        self.noise_tunnel = noise_tunnel
        self.description = description
        self.expected_failures = tuple(expected_failures)

    def with_settings(self, name: str | None = None, **settings: Any) -> "CaptumGradientExplainer":
        """A copy of this explainer run with ``settings`` changed (e.g. IG's ``n_steps`` and ``method``, an LRP rule's
        ``epsilon`` / ``gamma``); not registered. Only keys this explainer already records can change."""
        unknown = sorted(set(settings) - set(self.settings))
        if unknown:
            raise ValueError(f"{self.name} has no setting {', '.join(map(repr, unknown))}; "
                             f"its settings are {sorted(self.settings)}")
        if "method" in settings and settings["method"] not in IG_METHODS:
            raise ValueError(f"Expected method in {IG_METHODS} but got method={settings['method']!r}")
        if "n_steps" in settings and (not isinstance(settings["n_steps"], int) or settings["n_steps"] < 2):
            raise ValueError(f"Expected an integer n_steps >= 2 but got n_steps={settings['n_steps']!r}")
        new = dict(self.settings, **settings)
        kwargs = {k: new[k] for k in self.attribute_kwargs}
        label = name or f"{self.name}[{','.join(f'{k}={settings[k]}' for k in sorted(settings))}]"
        return CaptumGradientExplainer(label, self.family, self.method, self.capabilities, new, kwargs,
                                       self.noise_tunnel, self.description)

    def can_explain(self, model: "SyntheticModel") -> tuple[bool, str]:
        ok, why = super().can_explain(model)
        if not ok or self.method != "LRP":
            return ok, why
        cache: dict[str, tuple[bool, str]] = self.__dict__.setdefault("_lrp_cache", {})
        if model.name not in cache:
            missing = lrp_unsupported_layers(model.torch_module())
            cache[model.name] = (False, f"captum LRP has no rule for {', '.join(missing)} in {model.name}") \
                if missing else (True, "")
        return cache[model.name]

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        module = explained_module(model, target, fresh=self.method == "LRP")
        attr = captum_method(self.method, module, self.settings)
        if self.noise_tunnel:
            from captum.attr import NoiseTunnel

            attr = NoiseTunnel(attr)
        kwargs = dict(self.attribute_kwargs)
        if self.capabilities.uses_baseline:
            kwargs["baselines"] = as_tensor(baseline)
        if self.capabilities.uses_background:
            if background.shape[0] == 1 and self.method == "DeepLiftShap":
                background = np.repeat(background, 2, axis=0)  # captum refuses one row; the mean is unchanged
            kwargs["baselines"] = as_tensor(background)
        with torch_seed(seed), numpy_global_seed(seed), quiet_captum():
            out = attr.attribute(as_tensor(X, requires_grad=True), **kwargs)
        return to_numpy(out)


def lrp_unsupported_layers(module: "torch.nn.Module | None") -> list[str]:
    """Type names (sorted, unique) of the leaf modules of ``module`` that captum's LRP has no rule for.

    Leaves are found as ``LRP._get_layers`` finds them on the explained module (which wraps ``module`` as its only
    child, so a childless ``module`` is itself a leaf); a leaf is fine if captum attaches a rule to its type, passes
    it through as a non-linearity, it already has a ``rule``, or it is a reshape (``captum_method`` gives it one).
    """
    if module is None:
        return []
    import torch
    from captum.attr._core.lrp import SUPPORTED_LAYERS_WITH_RULES, SUPPORTED_NON_LINEAR_LAYERS

    known = {*SUPPORTED_LAYERS_WITH_RULES, *SUPPORTED_NON_LINEAR_LAYERS, torch.nn.Flatten, torch.nn.Unflatten}
    missing: set[str] = set()
    stack = [module]
    while stack:
        layer = stack.pop()
        children = list(layer.children())
        if children:
            stack.extend(children)
        elif type(layer) not in known and not hasattr(layer, "rule"):
            missing.add(type(layer).__name__)
    return sorted(missing)


def lrp_rule(settings: Mapping[str, Any]) -> Any:
    """A fresh captum rule object for ``settings["rule"]`` (see the module docstring), or ``None`` for captum's
    default (epsilon 1e-9)."""
    from captum.attr._utils.lrp_rules import EpsilonRule, GammaRule

    rule = settings.get("rule", "epsilon")
    if rule not in LRP_RULES:
        raise ValueError(f"Expected an LRP rule in {sorted(LRP_RULES)} but got rule={rule!r}")
    if rule == "zero":
        return GammaRule(gamma=0.0, set_bias_to_zero=True)
    if rule == "gamma":
        return GammaRule(gamma=float(settings["gamma"]))
    return EpsilonRule(epsilon=float(settings.get("epsilon", 1e-9)))


def captum_method(method: str, module: "torch.nn.Module", settings: Mapping[str, Any] | None = None) -> Any:
    """Instantiate captum's attribution class ``method`` on ``module`` (LRP: reshape modules get the epsilon rule,
    linear and convolution layers the rule ``settings`` name)."""
    import captum.attr as ca

    if method == "LRP":
        import torch
        from captum.attr._utils.lrp_rules import EpsilonRule

        for layer in module.modules():
            if type(layer) in (torch.nn.Flatten, torch.nn.Unflatten) and not hasattr(layer, "rule"):
                layer.rule = EpsilonRule()  # type: ignore[assignment]
            elif type(layer) in (torch.nn.Linear, torch.nn.Conv2d) and not hasattr(layer, "rule"):
                layer.rule = lrp_rule(settings or {})  # type: ignore[assignment]
        return ca.LRP(module)
    if method in ("IntegratedGradients", "DeepLift", "DeepLiftShap", "GradientShap", "InputXGradient"):
        if method == "InputXGradient":
            return ca.InputXGradient(module)
        return getattr(ca, method)(module, multiply_by_inputs=True)
    return getattr(ca, method)(module)


_GRAD = Capabilities(requires="torch")
_BASE = Capabilities(requires="torch", uses_baseline=True, multiplies_by_input=True)
_BACK = Capabilities(requires="torch", uses_background=True, multiplies_by_input=True)

_SPECS: tuple[CaptumGradientExplainer, ...] = (
    CaptumGradientExplainer("saliency", "gradient", "Saliency", _GRAD, {"abs": False}, {"abs": False},
                            description="signed input gradient (Simonyan et al. 2014)",
                            expected_failures=(
                                ExpectedFailure("sensitivity", why.SATURATION.format(
                                    what="the gradient (saliency map)"), case="one_minus_relu"),)),
    CaptumGradientExplainer("input_x_gradient", "gradient", "InputXGradient",
                            Capabilities(requires="torch", multiplies_by_input=True), {},
                            description="x * gradient (Shrikumar et al. 2016)",
                            expected_failures=(
                                ExpectedFailure("sensitivity", why.SATURATION.format(what="gradient x input"),
                                                case="one_minus_relu"),
                                ExpectedFailure("input_invariance", why.REFERENCE_SHIFT.format(
                                    method="gradient x input",
                                    when=" (it has no reference point to move with the input)")))),
    CaptumGradientExplainer("integrated_gradients", "path", "IntegratedGradients", _BASE, IG_SETTINGS, IG_SETTINGS,
                            description="Integrated Gradients (Sundararajan et al. 2017)",
                            expected_failures=(
                                ExpectedFailure("input_invariance_fixed_reference", why.REFERENCE_SHIFT.format(
                                    method="Integrated Gradients",
                                    when=" when the baseline stays at 0 instead of moving to c")),)),
    CaptumGradientExplainer("deeplift", "path", "DeepLift", _BASE, {"rule": "rescale"},
                            description="DeepLIFT rescale rule (Shrikumar et al. 2017)",
                            expected_failures=(
                                ExpectedFailure("implementation_invariance", why.DISCRETE_GRADIENTS.format(
                                    method="DeepLift (Rescale rule)"), case="ig_paper_pair"),
                                ExpectedFailure("input_invariance_fixed_reference", why.REFERENCE_SHIFT.format(
                                    method="DeepLift", when=" when the reference stays at 0 instead of moving to c")))),
    CaptumGradientExplainer("deeplift_shap", "shapley", "DeepLiftShap", _BACK, {"rule": "rescale"},
                            description="DeepLIFT averaged over background baselines (Lundberg & Lee 2017)",
                            expected_failures=(
                                ExpectedFailure("implementation_invariance", why.DISCRETE_GRADIENTS.format(
                                    method="DeepLift SHAP (the DeepLift Rescale rule averaged over background "
                                           "references, Lundberg & Lee 2017, sec. 4.2)"), case="ig_paper_pair"),)),
    CaptumGradientExplainer("gradient_shap", "shapley", "GradientShap",
                            Capabilities(requires="torch", uses_background=True, stochastic=True,
                                         multiplies_by_input=True),
                            {"n_samples": 64, "stdevs": 0.0}, {"n_samples": 64, "stdevs": 0.0},
                            description="expected gradients (Lundberg & Lee 2017; Erion et al. 2021)"),
    CaptumGradientExplainer("guided_backprop", "gradient", "GuidedBackprop", _GRAD, {},
                            description="guided backpropagation (Springenberg et al. 2015)",
                            expected_failures=(
                                ExpectedFailure("sensitivity", why.SATURATION.format(
                                    what="guided backpropagation (which zeroes the gradient where the forward ReLU "
                                         "is inactive)"), case="one_minus_relu"),)),
    CaptumGradientExplainer("deconvolution", "gradient", "Deconvolution", _GRAD, {},
                            description="deconvnet (Zeiler & Fergus 2014)",
                            expected_failures=(
                                ExpectedFailure("sensitivity", why.SATURATION.format(
                                    what="DeconvNet (which passes only the positive part of the negative upstream "
                                         "signal)"), case="one_minus_relu"),)),
    CaptumGradientExplainer("lrp", "gradient", "LRP", _GRAD, {"rule": "epsilon", "epsilon": 1e-9},
                            description="layer-wise relevance propagation, epsilon rule (Bach et al. 2015)",
                            expected_failures=(
                                ExpectedFailure("sensitivity", "Ancona et al. 2018, sec. 3 (epsilon-LRP equals "
                                                "Gradient*Input on ReLU networks) with Sundararajan et al. 2017, sec. "
                                                "2.1: on f(x) = 1 - ReLU(1 - x) at x = 2 the only hidden ReLU is "
                                                "inactive, so no relevance reaches x although f(x) - f(0) = 1",
                                                case="one_minus_relu"),
                                ExpectedFailure("input_invariance", why.REFERENCE_SHIFT.format(
                                    method="LRP (epsilon-LRP equals gradient x input on ReLU networks, Ancona et "
                                           "al. 2018)", when=" (it has no reference point to move with the input)")))),
    CaptumGradientExplainer("lrp_0", "gradient", "LRP", _GRAD, {"rule": "zero", "bias_in_denominator": False},
                            description="LRP-0, biases left out of the denominators (Bach et al. 2015)"),
    CaptumGradientExplainer("lrp_epsilon", "gradient", "LRP", _GRAD, {"rule": "epsilon", "epsilon": 0.25},
                            description="LRP-epsilon, epsilon = 0.25 (Montavon et al. 2019)"),
    CaptumGradientExplainer("lrp_gamma", "gradient", "LRP", _GRAD, {"rule": "gamma", "gamma": 0.25},
                            description="LRP-gamma, gamma = 0.25 (Montavon et al. 2019)"),
    CaptumGradientExplainer("smoothgrad", "gradient", "Saliency", Capabilities(requires="torch", stochastic=True),
                            {"nt_samples": 32, "stdevs": NOISE_STDEV, "abs": False},
                            {"nt_type": "smoothgrad", "nt_samples": 32, "stdevs": NOISE_STDEV, "abs": False},
                            noise_tunnel=True, description="SmoothGrad (Smilkov et al. 2017)"),
    CaptumGradientExplainer("smoothgrad_ig", "path", "IntegratedGradients",
                            Capabilities(requires="torch", uses_baseline=True, stochastic=True,
                                         multiplies_by_input=True),
                            {"nt_samples": 16, "stdevs": NOISE_STDEV, "n_steps": 32, "method": "gausslegendre"},
                            {"nt_type": "smoothgrad", "nt_samples": 16, "stdevs": NOISE_STDEV, "n_steps": 32,
                             "method": "gausslegendre"},
                            noise_tunnel=True, description="SmoothGrad over Integrated Gradients"),
)

for _exp in _SPECS:
    register(_exp)
