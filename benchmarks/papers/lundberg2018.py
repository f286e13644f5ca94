"""Lundberg, Erion & Lee 2018: path attribution (Saabas) is inconsistent on trees; Tree SHAP is consistent.

Their Fig. 1: features (Cough, Fever) on {0,1}², uniform. Model A = ``80·[C ∧ F]``, model B = ``80·[C ∧ F] +
10·[C]``: B relies more on Cough, so a *consistent* attribution (their definition) must not lower Cough's credit at
``x = (1, 1)`` from A to B. Saabas (the path attribution of the tree's own node means) does lower it, because B's tree
splits on Cough first; Tree SHAP (exact Shapley values of the tree) raises it.

We explain the project's trees ``tree_cough_fever`` (A) and ``tree_cough_fever_10_90`` (B) with the registered
explainers ``saabas`` and ``shap_tree`` (background: the four truth-table rows, i.e. the uniform distribution), and
compare Tree SHAP with the exact interventional Shapley oracle.

Citation: S. M. Lundberg, G. G. Erion, S.-I. Lee, "Consistent individualized feature attribution for tree ensembles",
arXiv:1802.03888 (2018).
"""

from __future__ import annotations

import numpy as np

from ._common import explain, max_abs_diff
from .claims import Claim, Measurement, Paper, fmt, measures, need_explainer, need_model

__all__ = ["PAPER", "CLAIMS"]

MODEL_A, MODEL_B = "tree_cough_fever", "tree_cough_fever_10_90"
X_BOTH = np.array([[1.0, 1.0]])  # cough = fever = 1
UNIFORM = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
COUGH = 0

CLAIMS: tuple[Claim, ...] = (
    Claim("saabas_inconsistent", "Saabas lowers Cough's attribution at (1, 1) from model A to model B although B "
          "relies more on Cough.", "Fig. 1 (cough and fever)", "Cough's Saabas attribution decreases from A to B"),
    Claim("treeshap_consistent", "Tree SHAP raises (does not lower) Cough's attribution at (1, 1) from A to B.",
          "Fig. 1 (cough and fever)", "Cough's Tree SHAP attribution does not decrease"),
    Claim("treeshap_exact", "Tree SHAP computes the exact Shapley values of the tree.", "Tree SHAP algorithm",
          "equal to the exact Shapley values (model A (30, 30), model B (35, 30) at (1, 1) by the Shapley formula)"),
    Claim("both_locally_accurate", "Both attributions sum to f(x) - E[f(X)] (local accuracy).",
          "local accuracy property",
          "sum of attributions = f(x) - E f"),
)


def _attributions() -> dict:
    from xaicheck.synthetic_models.shapley import interventional_shapley

    a, b = need_model(MODEL_A), need_model(MODEL_B)
    out: dict = {}
    for name in ("saabas", "shap_tree"):
        exp = need_explainer(name)
        out[name] = {m.name: explain(exp, m, X_BOTH, background=UNIFORM)[0] for m in (a, b)}
    out["exact"] = {m.name: interventional_shapley(m.predict, X_BOTH, UNIFORM)[0] for m in (a, b)}
    out["gap"] = {m.name: float(m.predict(X_BOTH)[0] - m.predict(UNIFORM).mean()) for m in (a, b)}
    out["root"] = {m.name: m.spec().get("root_feature") for m in (a, b)}
    return out


@measures("saabas_inconsistent", "treeshap_consistent", "treeshap_exact", "both_locally_accurate")
def _measure() -> list[Measurement]:
    r = _attributions()
    s, t, e = r["saabas"], r["shap_tree"], r["exact"]
    rows = {k: {m: v.tolist() for m, v in r[k].items()} for k in ("saabas", "shap_tree", "exact")}
    s_a, s_b = float(s[MODEL_A][COUGH]), float(s[MODEL_B][COUGH])
    t_a, t_b = float(t[MODEL_A][COUGH]), float(t[MODEL_B][COUGH])
    exact_gap = max(max_abs_diff(t[m], e[m]) for m in (MODEL_A, MODEL_B))
    acc = {k: {m: float(abs(r[k][m].sum() - r["gap"][m])) for m in (MODEL_A, MODEL_B)} for k in ("saabas", "shap_tree")}
    roots = f"root splits: A on feature {r['root'][MODEL_A]}, B on feature {r['root'][MODEL_B]} (0 = cough, 1 = fever)"
    return [
        Measurement("saabas_inconsistent", s_b < s_a, {"cough_A": s_a, "cough_B": s_b, "attributions": rows["saabas"]},
                    f"Saabas (cough, fever) at (1,1): A {fmt(s[MODEL_A][0])}, {fmt(s[MODEL_A][1])}; "
                    f"B {fmt(s[MODEL_B][0])}, {fmt(s[MODEL_B][1])}: Cough {fmt(s_a)} -> {fmt(s_b)}; {roots}"),
        Measurement("treeshap_consistent", t_b >= t_a, {"cough_A": t_a, "cough_B": t_b,
                                                         "attributions": rows["shap_tree"]},
                    f"Tree SHAP (cough, fever) at (1,1): A {fmt(t[MODEL_A][0])}, {fmt(t[MODEL_A][1])}; "
                    f"B {fmt(t[MODEL_B][0])}, {fmt(t[MODEL_B][1])}: Cough {fmt(t_a)} -> {fmt(t_b)}"),
        Measurement("treeshap_exact", exact_gap <= 1e-6, {"max_abs_diff": exact_gap, "exact": rows["exact"]},
                    f"max |Tree SHAP - exact interventional Shapley| over both models = {fmt(exact_gap)}"),
        Measurement("both_locally_accurate", max(v for d in acc.values() for v in d.values()) <= 1e-6,
                    {"max_abs_gap": acc},
                    "|Σφ - (f(x) - E f)|: " + "; ".join(f"{k} A {fmt(v[MODEL_A])} B {fmt(v[MODEL_B])}"
                                                         for k, v in acc.items())),
    ]


PAPER = Paper(
    name="lundberg2018",
    title="Consistent individualized feature attribution for tree ensembles",
    citation="Lundberg, Erion & Lee, arXiv:1802.03888, 2018",
    claims=CLAIMS,
    measure_fns=(_measure,),
    setup="Trees fitted exactly to the cough-and-fever functions of Fig. 1 (A: Fever at the root; B: Cough at the "
          "root); x = (cough = 1, fever = 1); uniform background.",
)
