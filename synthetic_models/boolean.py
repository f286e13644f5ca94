"""Boolean formulas over {0,1}^n: a vectorised numpy predictor, an exact ReLU network, and their ground truth.

Formulas: ``Var``, ``Const``, ``Not``, ``And``, ``Or``, ``Xor``, ``AtLeast`` (k-of-n, alias ``KofN``), ``Majority``,
``Parity``, ``Table`` (an explicit truth table) and ``WeightedSum`` (sum_j w_j [formula_j] + c, e.g.
``80 * (C & F) + 10 * C``). ``compile_network`` turns a formula into an ``MLPSpec`` that equals it on every
truth-table input, from the exact ReLU identities (x in {0,1}, s an integer sum of such values):

    AND(x_1..x_k) = relu(sum x - (k-1));   NOT x = 1 - x;   OR = 1 - AND(NOT x_1, ..)
    XOR(a, b) = relu(a - b) + relu(b - a)
    g(s) for integer s in 0..k = g(0) + sum_t (slope_t - slope_{t-1}) relu(s - t)   (AtLeast, Majority, Parity)

Gates are nested into layers; a value needed later is carried through a layer as relu(v + 1) - 1 (exact since
v >= 0, with gradient 1). Formal relevance (Huang & Marques-Silva 2023, "The inadequacy of Shapley values for
explainability"): an abductive explanation (AXp) of x is a subset-minimal S with f(z) = f(x) for every z agreeing
with x on S; a feature is irrelevant at x if it is in no AXp (``abductive.py``; the model is ``boolean_model.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .equivalence import MLPSpec

__all__ = [
    "Formula", "Var", "Const", "Not", "And", "Or", "Xor", "AtLeast", "KofN", "Majority", "Parity", "Table",
    "WeightedSum", "formula_from_json", "compile_network",
]


# ------------------------------------------------------------------------------------------------ network builder
class _Net:
    """Gates relu(affine) arranged by depth; an affine is ({key: coef}, const), key ('x', i) or ('h', gate)."""

    def __init__(self) -> None:
        self.gates: list[tuple[dict, float]] = []
        self.depth: list[int] = []

    def key_depth(self, key: tuple[str, int]) -> int:
        return 0 if key[0] == "x" else self.depth[key[1]]

    def gate(self, aff: tuple[dict, float]) -> tuple[dict, float]:
        coef = {k: v for k, v in aff[0].items() if v != 0}
        self.gates.append((coef, aff[1]))
        self.depth.append(1 + max((self.key_depth(k) for k in coef), default=0))
        return {("h", len(self.gates) - 1): 1.0}, 0.0


def _lin(terms: Sequence[tuple[float, tuple[dict, float]]], const: float = 0.0) -> tuple[dict, float]:
    coef: dict = {}
    for w, (c, k0) in terms:
        for k, v in c.items():
            coef[k] = coef.get(k, 0.0) + w * v
        const += w * k0
    return coef, const


def _piecewise(net: _Net, s: tuple[dict, float], values: Sequence[float]) -> tuple[dict, float]:
    """The linear interpolant of ``values[t]`` at integer s = t (0..k) as g(0) + sum_t dslope_t relu(s - t)."""
    terms, prev = [], 0.0
    for t in range(len(values) - 1):
        slope = values[t + 1] - values[t]
        if slope != prev:
            terms.append((slope - prev, net.gate(_lin([(1.0, s)], -float(t)))))
        prev = slope
    return _lin(terms, float(values[0]))


# ------------------------------------------------------------------------------------------------ formulas
class Formula(ABC):
    """A boolean (or, for ``WeightedSum``/non-0/1 ``Table``, numeric) function of binary inputs."""

    boolean: bool = True

    @abstractmethod
    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """Values ``[n]`` (float64) on binary inputs ``X[n, d]``."""

    @abstractmethod
    def variables(self) -> frozenset[int]: ...

    @abstractmethod
    def text(self, names: Sequence[str]) -> str: ...

    @abstractmethod
    def to_json(self) -> list: ...

    @abstractmethod
    def _compile(self, net: _Net) -> tuple[dict, float]: ...

    def __and__(self, other: "Formula") -> "And":
        return And(self, other)

    def __or__(self, other: "Formula") -> "Or":
        return Or(self, other)

    def __xor__(self, other: "Formula") -> "Xor":
        return Xor(self, other)

    def __invert__(self) -> "Not":
        return Not(self)

    def __rmul__(self, w: float) -> "WeightedSum":
        return WeightedSum(((float(w), self),))

    def __add__(self, other: Any) -> "WeightedSum":
        return WeightedSum(((1.0, self),)) + other


def _need_boolean(args: Sequence[Formula], op: str) -> tuple[Formula, ...]:
    for a in args:
        if not isinstance(a, Formula) or not a.boolean:
            raise TypeError(f"{op} needs boolean formulas but got {a!r}")
    return tuple(args)


def _names(args: Sequence[Formula], names: Sequence[str]) -> str:
    return ", ".join(a.text(names) for a in args)


def _vars(args: Sequence[Formula]) -> frozenset[int]:
    return frozenset().union(*(a.variables() for a in args))


@dataclass(frozen=True)
class Var(Formula):
    index: int

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X[:, self.index], dtype=np.float64)

    def variables(self) -> frozenset[int]:
        return frozenset({self.index})

    def text(self, names: Sequence[str]) -> str:
        return names[self.index]

    def to_json(self) -> list:
        return ["var", self.index]

    def _compile(self, net: _Net) -> tuple[dict, float]:
        return {("x", self.index): 1.0}, 0.0


@dataclass(frozen=True)
class Const(Formula):
    value: bool

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], float(self.value))

    def variables(self) -> frozenset[int]:
        return frozenset()

    def text(self, names: Sequence[str]) -> str:
        return str(int(self.value))

    def to_json(self) -> list:
        return ["const", int(self.value)]

    def _compile(self, net: _Net) -> tuple[dict, float]:
        return {}, float(self.value)


@dataclass(frozen=True)
class Not(Formula):
    arg: Formula

    def __post_init__(self) -> None:
        _need_boolean([self.arg], "Not")

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return 1.0 - self.arg.evaluate(X)

    def variables(self) -> frozenset[int]:
        return self.arg.variables()

    def text(self, names: Sequence[str]) -> str:
        return f"not {self.arg.text(names)}"

    def to_json(self) -> list:
        return ["not", self.arg.to_json()]

    def _compile(self, net: _Net) -> tuple[dict, float]:
        return _lin([(-1.0, self.arg._compile(net))], 1.0)


class _Nary(Formula):
    op = ""

    def __init__(self, *args: Formula) -> None:
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        if not args:
            raise ValueError(f"{type(self).__name__} needs at least one argument")
        self.args = _need_boolean(args, type(self).__name__)

    def variables(self) -> frozenset[int]:
        return _vars(self.args)

    def text(self, names: Sequence[str]) -> str:
        return f"({f' {self.op} '.join(a.text(names) for a in self.args)})"

    def to_json(self) -> list:
        return [self.op, *(a.to_json() for a in self.args)]

    def _sum(self, X: np.ndarray) -> np.ndarray:
        return np.sum([a.evaluate(X) for a in self.args], axis=0)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_json() == other.to_json()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(repr(self.to_json()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.args!r}"


class And(_Nary):
    op = "and"

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return (self._sum(X) >= len(self.args)).astype(np.float64)

    def _compile(self, net: _Net) -> tuple[dict, float]:
        if len(self.args) == 1:
            return self.args[0]._compile(net)
        return net.gate(_lin([(1.0, a._compile(net)) for a in self.args], -(len(self.args) - 1.0)))


class Or(_Nary):
    op = "or"

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return (self._sum(X) >= 1).astype(np.float64)

    def _compile(self, net: _Net) -> tuple[dict, float]:
        return Not(And(*(Not(a) for a in self.args)))._compile(net)


class Xor(_Nary):
    """Exclusive or, folded left to right: XOR(a, b) = relu(a - b) + relu(b - a)."""

    op = "xor"

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return np.mod(self._sum(X), 2.0)

    def _compile(self, net: _Net) -> tuple[dict, float]:
        acc = self.args[0]._compile(net)
        for a in self.args[1:]:
            b = a._compile(net)
            acc = _lin([(1.0, net.gate(_lin([(1.0, acc), (-1.0, b)]))), (1.0, net.gate(_lin([(1.0, b), (-1.0, acc)])))])
        return acc


class _Counting(_Nary):
    """A function of the count s = sum of arguments."""

    def _table(self) -> list[float]: ...

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self._table(), dtype=np.float64)[self._sum(X).astype(np.int64)]

    def _compile(self, net: _Net) -> tuple[dict, float]:
        return _piecewise(net, _lin([(1.0, a._compile(net)) for a in self.args]), self._table())


class AtLeast(_Counting):
    """[sum of arguments >= k] (k-of-n)."""

    op = "atleast"

    def __init__(self, k: int, *args: Formula) -> None:
        super().__init__(*args)
        self.k = int(k)

    def _table(self) -> list[float]:
        return [float(t >= self.k) for t in range(len(self.args) + 1)]

    def text(self, names: Sequence[str]) -> str:
        return f"atleast{self.k}({_names(self.args, names)})"

    def to_json(self) -> list:
        return ["atleast", self.k, *(a.to_json() for a in self.args)]


KofN = AtLeast


class Majority(_Counting):
    """[sum of arguments > n/2]."""

    op = "majority"

    def _table(self) -> list[float]:
        return [float(2 * t > len(self.args)) for t in range(len(self.args) + 1)]

    def text(self, names: Sequence[str]) -> str:
        return f"majority({_names(self.args, names)})"


class Parity(_Counting):
    """[sum of arguments is odd], as one layer of relu(s - t) units."""

    op = "parity"

    def _table(self) -> list[float]:
        return [float(t % 2) for t in range(len(self.args) + 1)]

    def text(self, names: Sequence[str]) -> str:
        return f"parity({_names(self.args, names)})"


class Table(Formula):
    """An explicit truth table over ``variables``: value ``values[c]`` where bit j of c is x[variables[j]];
    compiled as sum_c values[c] * relu(literals of minterm c - (k-1))."""

    def __init__(self, variables: Sequence[int], values: Sequence[float]) -> None:
        self.vars = tuple(int(v) for v in variables)
        self.values = tuple(float(v) for v in values)
        if len(self.values) != 1 << len(self.vars) or len(set(self.vars)) != len(self.vars):
            raise ValueError(f"a table over {len(self.vars)} distinct variables needs {1 << len(self.vars)} values; "
                             f"got variables={self.vars}, {len(self.values)} values")
        self.boolean = set(self.values) <= {0.0, 1.0}

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        code = np.zeros(X.shape[0], dtype=np.int64)
        for j, v in enumerate(self.vars):
            code |= (X[:, v] > 0.5).astype(np.int64) << j
        return np.asarray(self.values)[code]

    def variables(self) -> frozenset[int]:
        return frozenset(self.vars)

    def text(self, names: Sequence[str]) -> str:
        vals = "".join(str(int(v)) for v in self.values) if self.boolean else ",".join(f"{v:g}" for v in self.values)
        return f"table[{', '.join(names[v] for v in self.vars)}]({vals})"

    def to_json(self) -> list:
        return ["table", list(self.vars), list(self.values)]

    def _compile(self, net: _Net) -> tuple[dict, float]:
        k = len(self.vars)
        terms = []
        for c, value in enumerate(self.values):
            if value == 0.0:
                continue
            lits = [(1.0, ({("x", v): 1.0}, 0.0)) if c >> j & 1 else (-1.0, ({("x", v): 1.0}, -1.0))
                    for j, v in enumerate(self.vars)]
            minterm = net.gate(_lin(lits, -(k - 1.0))) if k else ({}, 1.0)
            terms.append((value, minterm))
        return _lin(terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Table) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.vars, self.values))

    def __repr__(self) -> str:
        return f"Table({self.vars}, {self.values})"


@dataclass(frozen=True)
class WeightedSum(Formula):
    """sum_j w_j [formula_j] + bias (numeric; use only at the top)."""

    terms: tuple[tuple[float, Formula], ...]
    bias: float = 0.0
    boolean = False

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return sum((w * f.evaluate(X) for w, f in self.terms), np.full(X.shape[0], self.bias))

    def variables(self) -> frozenset[int]:
        return _vars([f for _, f in self.terms])

    def text(self, names: Sequence[str]) -> str:
        parts = [f"{w:g}*[{f.text(names)}]" for w, f in self.terms] + ([f"{self.bias:g}"] if self.bias else [])
        return " + ".join(parts)

    def to_json(self) -> list:
        return ["sum", self.bias, *([w, f.to_json()] for w, f in self.terms)]

    def _compile(self, net: _Net) -> tuple[dict, float]:
        return _lin([(w, f._compile(net)) for w, f in self.terms], self.bias)

    def __add__(self, other: Any) -> "WeightedSum":
        if isinstance(other, WeightedSum):
            return WeightedSum(self.terms + other.terms, self.bias + other.bias)
        if isinstance(other, Formula):
            return WeightedSum(self.terms + ((1.0, other),), self.bias)
        return WeightedSum(self.terms, self.bias + float(other))

    def __rmul__(self, w: float) -> "WeightedSum":
        return WeightedSum(tuple((w * v, f) for v, f in self.terms), w * self.bias)


def formula_from_json(data: Sequence[Any]) -> Formula:
    """Inverse of ``Formula.to_json``."""
    op, rest = data[0], list(data[1:])
    if op == "var":
        return Var(int(rest[0]))
    if op == "const":
        return Const(bool(rest[0]))
    if op == "not":
        return Not(formula_from_json(rest[0]))
    if op == "table":
        return Table(rest[0], rest[1])
    if op == "atleast":
        return AtLeast(int(rest[0]), *(formula_from_json(a) for a in rest[1:]))
    if op == "sum":
        return WeightedSum(tuple((float(w), formula_from_json(f)) for w, f in rest[1:]), float(rest[0]))
    classes = {"and": And, "or": Or, "xor": Xor, "majority": Majority, "parity": Parity}
    if op not in classes:
        raise ValueError(f"unknown formula operator {op!r} in {data!r}")
    return classes[op](*(formula_from_json(a) for a in rest))


def compile_network(formula: Formula, n_inputs: int) -> MLPSpec:
    """An ``MLPSpec`` equal to ``formula`` on every point of {0,1}^n_inputs (carries: relu(v + 1) - 1)."""
    net = _Net()
    out = formula._compile(net)
    consumers = [(net.depth[g], coef) for g, (coef, _) in enumerate(net.gates)]
    D = max(net.depth, default=0)
    consumers.append((D + 1, out[0]))
    last_use: dict = {}
    for depth, coef in consumers:
        for k in coef:
            last_use[k] = max(last_use.get(k, 0), depth)
    avail = {("x", i): (i, 0.0) for i in range(n_inputs)}  # key -> (unit index, offset): value = unit - offset
    width = n_inputs

    def row(aff: tuple[dict, float], width: int) -> tuple[np.ndarray, float]:
        w, c = np.zeros(width), aff[1]
        for k, v in aff[0].items():
            idx, off = avail[k]
            w[idx] += v
            c -= v * off
        return w, c

    layers = []
    for L in range(1, D + 1):
        rows, new = [], {}
        for g in (g for g in range(len(net.gates)) if net.depth[g] == L):
            new[("h", g)] = (len(rows), 0.0)
            rows.append(row(net.gates[g], width))
        for k, use in sorted(last_use.items()):
            if net.key_depth(k) < L < use:
                w, c = row(({k: 1.0}, 1.0), width)
                new[k] = (len(rows), 1.0)
                rows.append((w, c))
        layers.append((np.array([r[0] for r in rows]).reshape(len(rows), width), np.array([r[1] for r in rows])))
        avail, width = new, len(rows)
    w, c = row(out, width)
    layers.append((w[None, :], np.array([c])))
    return MLPSpec(tuple(layers))


# ------------------------------------------------------------------------------------------------ formal relevance
