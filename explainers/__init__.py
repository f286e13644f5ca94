"""Every attribution method behind one interface: adapters for captum, shap, lime, scikit-learn; oracles; controls."""

from .base import (
    Capabilities,
    ExpectedFailure,
    Explainer,
    ExplainerError,
    ExplainerOutputError,
    FunctionExplainer,
    MissingInputError,
    all_explainers,
    explainer,
    explainer_names,
    get_explainer,
    register,
)

__all__ = [
    "Capabilities",
    "ExpectedFailure",
    "Explainer",
    "ExplainerError",
    "ExplainerOutputError",
    "FunctionExplainer",
    "MissingInputError",
    "all_explainers",
    "explainer",
    "explainer_names",
    "get_explainer",
    "register",
]
