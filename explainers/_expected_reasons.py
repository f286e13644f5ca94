"""Reason templates shared by the adapters' expected failures (``Explainer.expected_failures``), each citing the paper
that proves or constructs the violation; an adapter fills in its method (``SATURATION.format(what=...)``).

Only theory-predicted violations on the exact model of a case are declared, never a run that happened to fail.
"""

from __future__ import annotations

__all__ = ["SATURATION", "DISCRETE_GRADIENTS", "REFERENCE_SHIFT", "HMS", "TREE_INCONSISTENCY", "SCAFFOLD"]

SATURATION = ("Sundararajan et al. 2017, sec. 2.1 (Sensitivity(a)): on f(x) = 1 - ReLU(1 - x) with baseline 0 and "
              "x = 2 the output changes by 1 but the gradient at x is 0, so {what} gives the feature 0")
DISCRETE_GRADIENTS = ("Sundararajan et al. 2017, sec. 2.2 and Fig. 7 (Implementation Invariance): {method} "
                      "replaces gradients by discrete gradients, which break the chain rule, so the two "
                      "functionally equivalent networks relu(relu(x1)-1-relu(x2)) and relu(relu(x1-1)-relu(x2)) "
                      "get different attributions (e.g. at x = (3, 1), baseline 0)")
REFERENCE_SHIFT = ("Kindermans et al. 2017/2019 (The (un)reliability of saliency methods), sec. 3: {method} is not "
                   "input invariant{when}: for f'(x) = f(x - c) evaluated at x + c the attributions change by a "
                   "term in c")
HMS = ("Huang & Marques-Silva 2023 (The inadequacy of Shapley values for explainability), {issue}: exact Shapley "
       "values under the uniform input distribution give {what} on this boolean function")
TREE_INCONSISTENCY = ("Lundberg, Erion & Lee 2018 (Consistent individualized feature attribution for tree ensembles), "
                      "sec. 2 and Fig. 1: {method} is inconsistent on the cough-and-fever trees: in model B "
                      "([C and F]*80 + [C]*10) the model relies more on cough, yet {what}")
SCAFFOLD = ("Slack et al. 2020 (Fooling LIME and SHAP, AIES), sec. 3 and Figs. 3-4: {method} queries the model at "
            "perturbations that lie off the data manifold, where the adversarial scaffold switches to the innocuous "
            "feature, so the sensitive feature is rarely ranked first")
