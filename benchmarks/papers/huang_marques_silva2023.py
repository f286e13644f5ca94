"""Huang & Marques-Silva 2023: Shapley values can give irrelevant features non-zero importance, relevant ones zero.

Setting: a boolean classifier ``f: {0,1}^n -> {0,1}``, an instance ``x``, uniform input
distribution. The Shapley value uses ``v(S) = E_{z uniform}[f(x_S, z_{N\\S})]``. A set ``S`` is *sufficient* (a weak
abductive explanation) when fixing ``x_S`` fixes the prediction: ``f(x_S, z) = f(x)`` for every ``z``; for a boolean
``f`` under the uniform distribution this is exactly ``v(S) = f(x)``. An AXp is a subset-minimal sufficient set (by
monotonicity of sufficiency, minimal iff no single element can be dropped). Feature ``i`` is *relevant* for
``(f, x)`` iff it belongs to some AXp, else *irrelevant*.

We count, over ALL ``2^(2^n)`` boolean functions and all ``2^n`` instances, the pairs ``(f, x)`` with
(a) an irrelevant feature of non-zero Shapley value and (b) a relevant feature of zero Shapley value; vectorised:
``V = T @ M`` with the truth tables ``T[F, 2^n]`` and the completion-averaging matrix ``M``, then ``Φ = V @ W`` with
the project's exact Shapley weights (``xaicheck.synthetic_models.shapley.shapley_weights``).

Citation: X. Huang, J. Marques-Silva, "The inadequacy of Shapley values for explainability", arXiv:2302.08160 (2023);
also "Explainability is NOT a game", CACM 2024.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .claims import Claim, Measurement, NotAvailable, Paper, fmt, measures, need_attr, need_model

__all__ = ["PAPER", "CLAIMS", "relevance_issue_counts", "N_VALUES"]

#: Feature counts enumerated in ``run_paper`` (n=4: 65,536 functions x 16 instances, about a second).
N_VALUES: tuple[int, ...] = (3, 4)
#: |Shapley| at or below this is "zero" (values are multiples of 1/(n! 2^n); float error is ~1e-16).
ZERO_TOL = 1e-9

CLAIMS: tuple[Claim, ...] = (
    Claim("irrelevant_nonzero_example", "The paper's example classifier has a feature that is irrelevant for the "
          "instance (in no AXp) yet gets a non-zero Shapley value.",
          "example classifier (model hms_irrelevant_nonzero)",
          "irrelevant feature with Sv != 0 exists"),
    Claim("relevant_zero_example", "There is a classifier and instance where a relevant feature (in some AXp) gets "
          "Shapley value exactly zero.", "example classifier (model hms_relevant_zero)",
          "relevant feature with Sv = 0 exists"),
    Claim("irrelevant_nonzero_n3", "Among all boolean functions of 3 variables, some (function, instance) pairs give "
          "an irrelevant feature a non-zero Shapley value.", "brute-force enumeration, n=3",
          "occurs (exact counts: published value not found)"),
    Claim("irrelevant_nonzero_n4", "Same over all 65,536 boolean functions of 4 variables.",
          "brute-force enumeration, n=4", "occurs (exact counts: published value not found)"),
    Claim("relevant_zero_n3", "Among all boolean functions of 3 variables, some (function, instance) pairs give a "
          "relevant feature a zero Shapley value.", "brute-force enumeration, n=3",
          "occurs (exact counts: published value not found)"),
    Claim("relevant_zero_n4", "Same over all boolean functions of 4 variables.", "brute-force enumeration, n=4",
          "occurs (exact counts: published value not found)"),
)


def _points(n: int) -> np.ndarray:
    """All ``2^n`` points of ``{0,1}^n`` as a boolean ``[2^n, n]`` matrix (bit i of the row index = feature i)."""
    codes = np.arange(1 << n)
    return ((codes[:, None] >> np.arange(n)) & 1).astype(bool)


def relevance_issue_counts(n: int) -> dict[str, Any]:
    """Exhaustive counts over all boolean functions of ``n`` variables (n <= 4) and all instances.

    Returns functions, pairs (= functions x instances), and for each issue the number and percentage of pairs and of
    functions (a function counts when some instance shows the issue).
    """
    from xaicheck.synthetic_models.shapley import coalitions, shapley_weights

    if not 1 <= n <= 4:
        raise ValueError(f"exhaustive enumeration supports 1 <= n <= 4; got n={n}")
    pts = _points(n)  # [P, n]
    P = pts.shape[0]
    masks = coalitions(n)  # [C, n]
    C = masks.shape[0]
    # agree[x, S, z]: z agrees with x on S; M = agree / count -> v(S) = mean over completions
    agree = np.all((pts[:, None, None, :] == pts[None, None, :, :]) | ~masks[None, :, None, :], axis=-1)
    M = agree / agree.sum(axis=-1, keepdims=True)  # [P, C, P]
    F = 1 << P
    T = ((np.arange(F, dtype=np.int64)[:, None] >> np.arange(P)) & 1).astype(np.float64)  # [F, P] truth tables
    V = np.einsum("fz,xcz->fxc", T, M)  # [F, P(x), C]
    phi = V @ shapley_weights(n)  # [F, P, n]
    fx = T  # f(x) for each instance x: [F, P]
    sufficient = np.isclose(V, fx[:, :, None], atol=1e-12)  # [F, P, C]
    # minimal: sufficient and no single-element removal is sufficient
    code = np.arange(C)
    minimal = sufficient.copy()
    for i in range(n):
        has_i = masks[:, i]
        drop = np.where(has_i, code & ~(1 << i), code)
        minimal &= ~(sufficient[:, :, drop] & has_i[None, None, :])
    relevant = np.einsum("fxc,ci->fxi", minimal.astype(np.int64), masks.astype(np.int64)) > 0  # [F, P, n]
    zero = np.abs(phi) <= ZERO_TOL
    irr_nonzero = np.any(~relevant & ~zero, axis=-1)  # [F, P]
    rel_zero = np.any(relevant & zero, axis=-1)
    pairs = F * P
    out: dict[str, Any] = {"n": n, "functions": F, "pairs": pairs}
    for key, hit in (("irrelevant_nonzero", irr_nonzero), ("relevant_zero", rel_zero),
                     ("either", irr_nonzero | rel_zero)):
        out[f"{key}_pairs"] = int(hit.sum())
        out[f"{key}_pairs_pct"] = 100.0 * hit.sum() / pairs
        out[f"{key}_functions"] = int(hit.any(axis=1).sum())
        out[f"{key}_functions_pct"] = 100.0 * hit.any(axis=1).sum() / F
    return out


def _example(model_name: str, want: str) -> Measurement:
    from xaicheck.synthetic_models.shapley import interventional_shapley

    model = need_model(model_name)
    n = model.n_features
    pts = _points(n).astype(np.float64)
    phi = interventional_shapley(model.predict, pts, pts)  # uniform distribution = all points as background
    irrelevant_gt = model.ground_truth.formally_irrelevant
    if irrelevant_gt is None:
        raise NotAvailable(f"model {model_name!r} carries no formally_irrelevant ground truth")
    # recompute relevance ourselves from the model's truth table and compare with the declared ground truth
    truth = model.predict(pts)
    hits = []
    for k in range(pts.shape[0]):
        for i in range(n):
            is_irr = _irrelevant(truth, n, k, i)
            z = abs(phi[k, i]) <= ZERO_TOL
            if (want == "irrelevant_nonzero" and is_irr and not z) or (want == "relevant_zero" and not is_irr and z):
                hits.append((k, i))
    # the most striking hit: largest |Sv| for an irrelevant feature, any for a relevant zero
    k_decl = max(hits, key=lambda h: abs(phi[h])) if hits else None
    measured = {"hits": len(hits), "instances": int(pts.shape[0]),
                "first_hit": None if k_decl is None else {"x": pts[k_decl[0]].tolist(), "feature": k_decl[1],
                                                           "shapley": float(phi[k_decl[0], k_decl[1]])},
                "declared_formally_irrelevant": sorted(int(i) for i in irrelevant_gt)}
    what = "an irrelevant feature with non-zero Shapley value" if want == "irrelevant_nonzero" else \
        "a relevant feature with zero Shapley value"
    why = (f"exact uniform-distribution Shapley values on all {pts.shape[0]} instances of {model_name}: "
           f"{len(hits)} (instance, feature) pairs with {what}"
           + ("" if not hits else f", e.g. x={pts[k_decl[0]].astype(int).tolist()} feature {k_decl[1]} "
              f"Sv={fmt(phi[k_decl[0], k_decl[1]])}"))
    return Measurement(f"{want}_example", bool(hits), measured, why)


def _irrelevant(truth: np.ndarray, n: int, k: int, i: int) -> bool:
    """Whether feature ``i`` is in no AXp of instance ``k`` for the truth table ``truth`` (brute force, small n)."""
    pts = _points(n)
    x = pts[k]

    def sufficient(S: int) -> bool:
        sel = np.array([(S >> j) & 1 for j in range(n)], dtype=bool)
        agree = np.all((pts == x) | ~sel, axis=1)
        return bool(np.all(truth[agree] == truth[k]))

    for S in range(1 << n):
        if (S >> i) & 1 and sufficient(S) and not any(sufficient(S & ~(1 << j)) for j in range(n) if (S >> j) & 1):
            return False
    return True


@measures("irrelevant_nonzero_example")
def _m_irr_example() -> list[Measurement]:
    return [_example("hms_irrelevant_nonzero", "irrelevant_nonzero")]


@measures("relevant_zero_example")
def _m_rel_example() -> list[Measurement]:
    return [_example("hms_relevant_zero", "relevant_zero")]


@measures("irrelevant_nonzero_n3", "irrelevant_nonzero_n4", "relevant_zero_n3", "relevant_zero_n4")
def _m_counts() -> list[Measurement]:
    try:  # the model authors' independent implementation, used as a cross-check of the function counts
        helper = need_attr("xaicheck.synthetic_models.logic_zoo", "shapley_relevance_issues")
    except NotAvailable:
        helper = None
    out = []
    for n in N_VALUES:
        c = relevance_issue_counts(n)
        other = helper(n) if helper is not None else None
        for key in ("irrelevant_nonzero", "relevant_zero"):
            if other is not None and other[key] != c[f"{key}_functions"]:
                raise ValueError(f"n={n} {key}: {c[f'{key}_functions']} functions here but {other[key]} in "
                                 "xaicheck.synthetic_models.logic_zoo.shapley_relevance_issues")
            measured = {"functions": c["functions"], "pairs": c["pairs"],
                        "pairs_with_issue": c[f"{key}_pairs"], "pairs_pct": c[f"{key}_pairs_pct"],
                        "functions_with_issue": c[f"{key}_functions"], "functions_pct": c[f"{key}_functions_pct"],
                        "cross_checked_with_logic_zoo": other is not None}
            why = (f"n={n}: {c[f'{key}_functions']} of {c['functions']} functions "
                   f"({fmt(c[f'{key}_functions_pct'])}%) and {c[f'{key}_pairs']} of {c['pairs']} (function, instance) "
                   f"pairs ({fmt(c[f'{key}_pairs_pct'])}%) show it"
                   + (" (function counts equal to logic_zoo.shapley_relevance_issues)" if other is not None else "")
                   + "; the paper's own percentages were not found, so only the existence claim is judged")
            out.append(Measurement(f"{key}_n{n}", c[f"{key}_pairs"] > 0, measured, why))
    return out


PAPER = Paper(
    name="huang_marques_silva2023",
    title="The inadequacy of Shapley values for explainability",
    citation="Huang & Marques-Silva, arXiv:2302.08160, 2023",
    claims=CLAIMS,
    measure_fns=(_m_irr_example, _m_rel_example, _m_counts),
    setup="Exact Shapley values under the uniform distribution; relevance = membership in some abductive "
          "explanation (subset-minimal sufficient set). Enumeration over every boolean function of n=3 and n=4.",
)
