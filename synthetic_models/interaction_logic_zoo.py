"""More exact interaction exams (default tier, truth axis ``interaction``): boolean functions on {0,1} and {-1,1} and
polynomials of order <= 3, d = 4-16, each written as its multilinear polynomial (``interaction_zoo.polynomial``), so
its Möbius transform is declared in closed form and ``tests/test_interaction_truth.py`` proves it equal to the
enumeration of the game.

On bits (``{0,1}``): ``AND(a,b) = ab``, ``OR(a,b) = a + b - ab``, ``XOR(a,b) = a + b - 2ab``,
``XOR(a,b,c) = a + b + c - 2(ab + ac + bc) + 4abc``, ``OR(a,b,c) = a + b + c - ab - ac - bc + abc``.
On ``{-1,1}`` (``s = ±1``, true = 1): ``AND(s,t) = (1 + s)(1 + t)/4``, ``OR(s,t) = 1 - (1 - s)(1 - t)/4``,
and, valued ±1, ``XOR(s,t) = -st``, ``MAJ(s,t,u) = (s + t + u - stu)/2`` (O'Donnell 2014, *Analysis of Boolean
Functions*, ch. 1: the Fourier expansion of a boolean function is its multilinear polynomial). Constant terms are
left out (they move no interaction).

    ia_and_or_pm1_d4    AND(x0,x1) + OR(x2,x3) on {-1,1}^4 (no dummy)
    ia_poly2_d4         x0 x1 - x1 x2 + 0.5 x3 on [-1,1]^4 (no dummy)
    ia_xor3_d8          XOR(x0,x1,x2) + AND(x3,x4) on {0,1}^8; x5..x7 dummy
    ia_or3_d10          OR(x0,x1,x2) + XOR(x3,x4) + 0.5 x5 on {0,1}^10; x6..x9 dummy
    ia_majority_pm1_d12 MAJ(x0,x1,x2) + XOR(x3,x4) (both ±1-valued) on {-1,1}^12, baseline all -1; x5..x11 dummy
    ia_poly3_d14        x0 x1 x2 + x3 x4 x5 - 0.5 x6 x7 + x8 on [-1,1]^14; x9..x13 dummy
    ia_poly3_shift_d16  0.5 x0 x1 x2 - x3 x4 + x5 x6 + 0.25 x7 x8 x9 on [0,2]^16, baseline 1; x10..x15 dummy
"""

from __future__ import annotations

from .interaction_zoo import PolynomialModel, polynomial
from .registry import register_model

__all__: list[str] = []

_PM1 = {"domain": "binary", "domain_values": (-1.0, 1.0), "baseline": -1.0}


@register_model("ia_and_or_pm1_d4", exam=True)
def ia_and_or_pm1_d4() -> PolynomialModel:
    """``AND(x0,x1) + OR(x2,x3)`` on {-1,1}^4: ``(x0 + x1 + x0 x1)/4 + (x2 + x3 - x2 x3)/4`` (+ a constant)."""
    return polynomial("ia_and_or_pm1_d4", {(0,): 0.25, (1,): 0.25, (0, 1): 0.25, (2,): 0.25, (3,): 0.25,
                                           (2, 3): -0.25}, 4, tier="default", **_PM1,  # type: ignore[arg-type]
                      symmetric=((0, 1), (2, 3)), interactions=((0, 1), (2, 3)),
                      notes="AND(x0,x1) + OR(x2,x3) on {-1,1}^4 (true = 1)")


@register_model("ia_poly2_d4", exam=True)
def ia_poly2_d4() -> PolynomialModel:
    """``x0 x1 - x1 x2 + 0.5 x3`` on [-1, 1]^4."""
    return polynomial("ia_poly2_d4", {(0, 1): 1.0, (1, 2): -1.0, (3,): 0.5}, 4, tier="default",
                      interactions=((0, 1), (1, 2)), notes="x0x1 - x1x2 + 0.5x3 on [-1,1]^4 (a shared feature)")


@register_model("ia_xor3_d8", exam=True)
def ia_xor3_d8() -> PolynomialModel:
    """``XOR(x0,x1,x2) + AND(x3,x4)`` on {0,1}^8; x5..x7 dummy."""
    terms = {(0,): 1.0, (1,): 1.0, (2,): 1.0, (0, 1): -2.0, (0, 2): -2.0, (1, 2): -2.0, (0, 1, 2): 4.0, (3, 4): 1.0}
    return polynomial("ia_xor3_d8", terms, 8, tier="default", domain="binary",
                      symmetric=((0, 1, 2), (3, 4)), interactions=((0, 1, 2), (3, 4)),
                      notes="three-way XOR + AND on {0,1}^8; x5..x7 dummy")


@register_model("ia_or3_d10", exam=True)
def ia_or3_d10() -> PolynomialModel:
    """``OR(x0,x1,x2) + XOR(x3,x4) + 0.5 x5`` on {0,1}^10; x6..x9 dummy."""
    terms = {(0,): 1.0, (1,): 1.0, (2,): 1.0, (0, 1): -1.0, (0, 2): -1.0, (1, 2): -1.0, (0, 1, 2): 1.0,
             (3,): 1.0, (4,): 1.0, (3, 4): -2.0, (5,): 0.5}
    return polynomial("ia_or3_d10", terms, 10, tier="default", domain="binary",
                      symmetric=((0, 1, 2), (3, 4)), interactions=((0, 1, 2), (3, 4)),
                      notes="three-way OR + XOR + a main effect on {0,1}^10; x6..x9 dummy")


@register_model("ia_majority_pm1_d12", exam=True)
def ia_majority_pm1_d12() -> PolynomialModel:
    """``MAJ(x0,x1,x2) + XOR(x3,x4)`` (±1-valued) on {-1,1}^12 = ``(x0 + x1 + x2 - x0 x1 x2)/2 - x3 x4``; x5..x11
    dummy."""
    terms = {(0,): 0.5, (1,): 0.5, (2,): 0.5, (0, 1, 2): -0.5, (3, 4): -1.0}
    return polynomial("ia_majority_pm1_d12", terms, 12, tier="default", **_PM1,  # type: ignore[arg-type]
                      symmetric=((0, 1, 2), (3, 4)), interactions=((0, 1, 2), (3, 4)),
                      notes="majority of three + XOR on {-1,1}^12; x5..x11 dummy")


@register_model("ia_poly3_d14", exam=True)
def ia_poly3_d14() -> PolynomialModel:
    """``x0 x1 x2 + x3 x4 x5 - 0.5 x6 x7 + x8`` on [-1, 1]^14; x9..x13 dummy."""
    return polynomial("ia_poly3_d14", {(0, 1, 2): 1.0, (3, 4, 5): 1.0, (6, 7): -0.5, (8,): 1.0}, 14,
                      tier="default", symmetric=((0, 1, 2), (3, 4, 5), (6, 7)),
                      interactions=((0, 1, 2), (3, 4, 5), (6, 7)), notes="two triples, a pair; x9..x13 dummy")


@register_model("ia_poly3_shift_d16", exam=True)
def ia_poly3_shift_d16() -> PolynomialModel:
    """``0.5 x0 x1 x2 - x3 x4 + x5 x6 + 0.25 x7 x8 x9`` on [0, 2]^16, baseline 1; x10..x15 dummy."""
    terms = {(0, 1, 2): 0.5, (3, 4): -1.0, (5, 6): 1.0, (7, 8, 9): 0.25}
    return polynomial("ia_poly3_shift_d16", terms, 16, tier="default", low=0.0, high=2.0, baseline=1.0,
                      symmetric=((0, 1, 2), (3, 4), (5, 6), (7, 8, 9)),
                      interactions=((0, 1, 2), (3, 4), (5, 6), (7, 8, 9)),
                      notes="third-order polynomial off the origin (baseline 1); x10..x15 dummy")
