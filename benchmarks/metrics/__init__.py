"""The field's truth-free evaluation metrics (Quantus, captum, OpenXAI) judged against exact truth (issue 26).

``run_metrics(out, suite=...)`` runs every metric (``all_metrics``) on the explainer panel's precomputed
attributions for the cases with exact Shapley values on the ranked attribution tracks (tabular, image, text,
trees; ``cells``) and writes ``metric_validity.csv`` (τ with the
exact-truth ranking, its bootstrap interval, the control test, invariance, cost), a markdown section and a plot.
"""

from .run import COLUMNS, all_metrics, run_metrics
from .spec import Metric
from .validity import control_test, kendall_tau_b, validity, verdict_moves

__all__ = ["COLUMNS", "Metric", "all_metrics", "run_metrics", "validity", "kendall_tau_b", "control_test",
           "verdict_moves"]
