"""Known axiom violations of the built-in explainers: only those theory predicts, each with a reason and citation.

They become *strict* expected failures (``pytest.mark.xfail(strict=True)``) in ``pytest benchmarks`` and in
``parametrize_with_checks``: a library upgrade that changes one of these outcomes fails the run and names the cell.
The table is small on purpose: an entry is added only when a paper proves (or constructs) the violation on the
exact model of the case, never because a run happened to fail.

``attach_expectations`` sets the table on the registered explainer objects (adapters are not edited); it is
idempotent and never touches a user's explainer that merely shares a name.

Validated, never skipped: an entry naming a check that is not registered is an ``ExpectedFailureError`` when the
check registry loads (``validate_check_names``), one naming an unknown case when that check's cases are built
(``validate_case_names``, called by ``axioms.base.cases_of``); both name the explainer and the bad key.
"""

from __future__ import annotations

from typing import Collection, Iterable, Mapping

from xaicheck.core.errors import ExpectedFailureError

from .base import EXPLAINERS, ExpectedFailure, Explainer, get_explainer

__all__ = ["EXPECTED_FAILURES", "expected_failures_of", "attach_expectations", "declared_expectations",
           "validate_check_names", "validate_case_names"]

_SATURATION = ("Sundararajan et al. 2017, sec. 2.1 (Sensitivity(a)): on f(x) = 1 - ReLU(1 - x) with baseline 0 and "
               "x = 2 the output changes by 1 but the gradient at x is 0, so {what} gives the feature 0")
_DISCRETE_GRADIENTS = ("Sundararajan et al. 2017, sec. 2.2 and Fig. 7 (Implementation Invariance): {method} "
                       "replaces gradients by discrete gradients, which break the chain rule, so the two "
                       "functionally equivalent networks relu(relu(x1)-1-relu(x2)) and relu(relu(x1-1)-relu(x2)) "
                       "get different attributions (e.g. at x = (3, 1), baseline 0)")
_REFERENCE_SHIFT = ("Kindermans et al. 2017/2019 (The (un)reliability of saliency methods), sec. 3: {method} is not "
                    "input invariant{when}: for f'(x) = f(x - c) evaluated at x + c the attributions change by a "
                    "term in c")
_HMS = ("Huang & Marques-Silva 2023 (The inadequacy of Shapley values for explainability), {issue}: exact Shapley "
        "values under the uniform input distribution give {what} on this boolean function")
_TREE_INCONSISTENCY = ("Lundberg, Erion & Lee 2018 (Consistent individualized feature attribution for tree ensembles), "
                       "sec. 2 and Fig. 1: {method} is inconsistent on the cough-and-fever trees: in model B "
                       "([C and F]*80 + [C]*10) the model relies more on cough, yet {what}")
_SCAFFOLD = ("Slack et al. 2020 (Fooling LIME and SHAP, AIES), sec. 3 and Figs. 3-4: {method} queries the model at "
             "perturbations that lie off the data manifold, where the adversarial scaffold switches to the innocuous "
             "feature, so the sensitive feature is rarely ranked first")

#: {explainer name: expected violations}. ``case=None`` means every case of the check.
EXPECTED_FAILURES: Mapping[str, tuple[ExpectedFailure, ...]] = {
    "saliency": (
        ExpectedFailure("sensitivity", _SATURATION.format(what="the gradient (saliency map)"),
                        case="one_minus_relu"),
    ),
    "input_x_gradient": (
        ExpectedFailure("sensitivity", _SATURATION.format(what="gradient x input"), case="one_minus_relu"),
        ExpectedFailure("input_invariance", _REFERENCE_SHIFT.format(
            method="gradient x input", when=" (it has no reference point to move with the input)")),
    ),
    "integrated_gradients": (
        ExpectedFailure("input_invariance_fixed_reference", _REFERENCE_SHIFT.format(
            method="Integrated Gradients", when=" when the baseline stays at 0 instead of moving to c")),
    ),
    "guided_backprop": (
        ExpectedFailure("sensitivity", _SATURATION.format(
            what="guided backpropagation (which zeroes the gradient where the forward ReLU is inactive)"),
            case="one_minus_relu"),
    ),
    "deconvolution": (
        ExpectedFailure("sensitivity", _SATURATION.format(
            what="DeconvNet (which passes only the positive part of the negative upstream signal)"),
            case="one_minus_relu"),
    ),
    "deeplift": (
        ExpectedFailure("implementation_invariance", _DISCRETE_GRADIENTS.format(method="DeepLift (Rescale rule)"),
                        case="ig_paper_pair"),
        ExpectedFailure("input_invariance_fixed_reference", _REFERENCE_SHIFT.format(
            method="DeepLift", when=" when the reference stays at 0 instead of moving to c")),
    ),
    "deeplift_shap": (
        ExpectedFailure("implementation_invariance", _DISCRETE_GRADIENTS.format(
            method="DeepLift SHAP (the DeepLift Rescale rule averaged over background references, Lundberg & Lee "
                   "2017, sec. 4.2)"), case="ig_paper_pair"),
    ),
    "lrp": (
        ExpectedFailure("sensitivity", "Ancona et al. 2018, sec. 3 (epsilon-LRP equals Gradient*Input on ReLU "
                        "networks) with Sundararajan et al. 2017, sec. 2.1: on f(x) = 1 - ReLU(1 - x) at x = 2 the "
                        "only hidden ReLU is inactive, so no relevance reaches x although f(x) - f(0) = 1",
                        case="one_minus_relu"),
        ExpectedFailure("input_invariance", _REFERENCE_SHIFT.format(
            method="LRP (epsilon-LRP equals gradient x input on ReLU networks, Ancona et al. 2018)",
            when=" (it has no reference point to move with the input)")),
    ),
    "saabas": (ExpectedFailure("ground_truth_agreement", _TREE_INCONSISTENCY.format(
        method="Saabas' path attribution", what="it credits cough 25 and fever 40 at (1, 1) while the exact "
        "interventional Shapley values are 35 and 30"), case="tree_cough_fever_10_90"),),
    "impurity_importance": (ExpectedFailure("ground_truth_agreement", _TREE_INCONSISTENCY.format(
        method="gain (impurity) importance", what="the root split on cough gains 2500 and the split on fever below "
        "it 3200 (sum of squares on the uniform truth table), so gain ranks fever first while mean |SHAP| ranks "
        "cough first"), case="tree_cough_fever_10_90"),),
    "lime_tabular": (ExpectedFailure("fooling", _SCAFFOLD.format(method="LIME (lime.lime_tabular)")),),
    "captum_lime": (ExpectedFailure("fooling", _SCAFFOLD.format(method="LIME (captum.attr.Lime)")),),
    "shap_kernel": (ExpectedFailure("fooling", _SCAFFOLD.format(method="KernelSHAP (shap.KernelExplainer)")),),
    "captum_kernel_shap": (ExpectedFailure("fooling", _SCAFFOLD.format(method="KernelSHAP (captum.attr.KernelShap)")),),
    "exact_interventional_shapley": (
        ExpectedFailure("relevance", _HMS.format(issue="issue I1", what="a non-zero value to an irrelevant "
                                                 "feature (one in no abductive explanation)"),
                        case="hms_irrelevant_nonzero"),
        ExpectedFailure("relevance", _HMS.format(issue="issue I3", what="zero to a relevant feature"),
                        case="hms_relevant_zero"),
    ),
}


def expected_failures_of(name: str) -> tuple[ExpectedFailure, ...]:
    """The built-in table's entries for explainer ``name`` (empty if none)."""
    return tuple(EXPECTED_FAILURES.get(name, ()))


def _is_builtin(exp: Explainer) -> bool:
    """Whether ``exp`` is the registered built-in of that name (not a user's explainer that shares the name)."""
    if exp.library == "user" or exp.name not in EXPECTED_FAILURES:
        return False
    try:
        return get_explainer(exp.name) is exp
    except KeyError:
        return False


def _attach(exp: Explainer) -> None:
    have = {(ef.check, ef.case) for ef in exp.expected_failures}
    new = tuple(ef for ef in expected_failures_of(exp.name) if (ef.check, ef.case) not in have)
    if new:
        exp.expected_failures = (*exp.expected_failures, *new)


def attach_expectations(explainers: Iterable[Explainer] | None = None) -> None:
    """Add the table's entries to built-in explainers (all registered ones if ``explainers`` is ``None``).

    Entries an explainer already declares (same check and case) are kept as they are; calling twice changes nothing.
    """
    if explainers is None:
        targets: list[Explainer] = []
        for name in EXPECTED_FAILURES:
            try:
                targets.append(get_explainer(name))
            except KeyError:  # an adapter not installed / not written: nothing to attach to
                continue
    else:
        targets = [e for e in explainers if _is_builtin(e)]
    for exp in targets:
        _attach(exp)


def declared_expectations(explainers: Iterable[Explainer] | None = None) -> list[tuple[str, ExpectedFailure]]:
    """``(explainer name, expected failure)`` of the built-in table and of ``explainers`` (default: every explainer
    registered so far; the registry is not loaded by this)."""
    out = [(name, ef) for name, entries in EXPECTED_FAILURES.items() for ef in entries]
    for exp in (EXPLAINERS.registered().values() if explainers is None else explainers):
        out += [(exp.name, ef) for ef in exp.expected_failures]
    return out


def validate_check_names(known: Collection[str], explainers: Iterable[Explainer] | None = None) -> None:
    """Raise ``ExpectedFailureError`` if an expected failure names a check not in ``known``."""
    for name, ef in declared_expectations(explainers):
        if ef.check not in known:
            raise ExpectedFailureError(f"explainer {name!r} declares an expected failure of unknown check "
                                       f"{ef.check!r}; known checks: {', '.join(sorted(known))}")


def validate_case_names(check: str, cases: Collection[str], explainers: Iterable[Explainer] | None = None) -> None:
    """Raise ``ExpectedFailureError`` if an expected failure of ``check`` names a case not in ``cases``."""
    for name, ef in declared_expectations(explainers):
        if ef.check == check and ef.case is not None and ef.case not in cases:
            raise ExpectedFailureError(f"explainer {name!r} declares an expected failure of unknown case "
                                       f"{check}/{ef.case!r}; {check} has: {', '.join(sorted(cases))}")
