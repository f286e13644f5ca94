"""Blocked evaluation of coalition games: ``V[k, S] = mean_j f(x_k on S, r_kj on N\\S)`` in bounded memory.

One engine serves both games of Sundararajan & Najmi (2020): the baseline game is the reference set of one row per
instance (``r_k1 = b_k``), the interventional game (Janzing et al. 2020) a background ``Z`` shared by every instance.
The hybrid rows ``(instance, coalition, reference row)`` are enumerated in row-major order and cut into blocks of at
most ``BLOCK_ROWS`` rows, each written into one reused ``[BLOCK_ROWS, d]`` buffer and passed to a single ``predict``
call; the block is reduced over the reference axis at once (``mean``; a reference axis longer than a block is summed
in pieces and divided by ``m``). The value matrix is produced in instance chunks of at most ``VALUE_CELLS`` cells and
contracted with the weights ``W[2^d, d]`` chunk by chunk, so nothing scales with ``n · 2^d · m``. When one
instance spans several blocks, blocks are aligned power-of-two runs of coalitions, written once per instance and then
only in the columns whose high coalition bit changed (``_templated``); a shared reference set is written once.

**Memory bound** (``WORKING_BYTES``, asserted by ``tests/test_oracle_memory.py``): besides the inputs, the ``[n, d]``
output, the cached ``coalitions``/weights (``2^d · d`` each) and ``predict``'s own working memory on ``BLOCK_ROWS``
rows, one call allocates at most the hybrid buffer (``8 · BLOCK_ROWS · d`` bytes), the transposed coalition masks
(``2^d · d`` bytes), one block of outputs and one value chunk (``8 · VALUE_CELLS`` bytes): below ``WORKING_BYTES`` for every ``d <= 16``.

**Binary corner table**: when every instance and reference entry is 0 or 1, every hybrid row is a corner of
``{0,1}^d``; ``f`` is evaluated once on the ``2^d`` corners (``T[c] = f(bits of c)``, bit ``i`` = feature ``i``) and
each hybrid value is the integer gather ``T[(code(x) & S) | (code(r) & ~S)]``. Same rows, same ``predict`` outputs,
same reduction order: bit-identical to the enumeration whenever ``predict`` is row-wise.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

__all__ = [
    "BLOCK_ROWS",
    "SMALL_BLOCK_CELLS",
    "GATHER_ROWS",
    "VALUE_CELLS",
    "WORKING_BYTES",
    "Predict",
    "blocks",
    "is_binary",
    "corner_table",
    "game_values",
    "game_attributions",
]

Predict = Callable[[np.ndarray], np.ndarray]

#: Hybrid rows per ``predict`` call (the reused buffer is ``BLOCK_ROWS x d`` float64: 1 MiB at d = 16). Blocks of 8k
#: rows stay in cache, which makes them faster per row than million-row calls.
BLOCK_ROWS = 1 << 13
#: Blocks of at most this many cells (rows x d) write their instances' values in one ``copyto`` (measured: 7 us
#: instead of 53 us for 256 rows at d = 8); larger blocks go column by column, which is faster per cell.
SMALL_BLOCK_CELLS = 1 << 12
#: Codes gathered at once from a corner table (int64; 512 KiB).
GATHER_ROWS = 1 << 16
#: Cells of the value matrix ``V[instances, 2^d]`` held at once (float64: 16 MiB).
VALUE_CELLS = 1 << 21
#: Upper bound on the working memory of one call of ``game_attributions`` (see the module docstring): 64 MiB.
WORKING_BYTES = 64 << 20


def _scalar_output(out: np.ndarray, rows: int) -> np.ndarray:
    out = np.asarray(out, dtype=np.float64)
    if out.shape != (rows,):
        raise ValueError(f"value function needs a scalar output per row: predict returned shape {out.shape}")
    return out


def blocks(n: int, c: int, m: int, rows: int) -> Iterator[tuple[slice, slice, slice]]:
    """Cut the row-major grid ``[n instances, c coalitions, m reference rows]`` into boxes of at most ``rows`` rows:
    whole instances when ``c·m <= rows``, else whole reference sets when ``m <= rows``, else pieces of one
    reference set."""
    if c * m <= rows:
        step = rows // (c * m)
        for k in range(0, n, step):
            yield slice(k, min(k + step, n)), slice(0, c), slice(0, m)
    elif m <= rows:
        step = rows // m
        for k in range(n):
            for s in range(0, c, step):
                yield slice(k, k + 1), slice(s, min(s + step, c)), slice(0, m)
    else:
        for k in range(n):
            for s in range(c):
                for j in range(0, m, rows):
                    yield slice(k, k + 1), slice(s, s + 1), slice(j, min(j + rows, m))


def is_binary(*arrays: np.ndarray) -> bool:
    """Whether every entry of every array is exactly 0 or 1."""
    return all(bool(np.all((a == 0) | (a == 1))) for a in arrays)


def corner_table(predict: Predict, d: int, masks: np.ndarray) -> np.ndarray:
    """``T[2^d]`` with ``T[c] = f(corner c)``, corner ``c`` having ``x_i = bit i of c`` (``masks`` as float rows),
    evaluated in blocks of ``BLOCK_ROWS`` rows."""
    c = masks.shape[0]
    table = np.empty(c)
    for s in range(0, c, BLOCK_ROWS):
        rows = masks[s:s + BLOCK_ROWS].astype(np.float64)
        table[s:s + rows.shape[0]] = _scalar_output(predict(rows), rows.shape[0])
    return table


def _codes(rows: np.ndarray) -> np.ndarray:
    """Integer code of binary rows: bit ``i`` = feature ``i``."""
    return (rows.astype(np.int64) << np.arange(rows.shape[-1], dtype=np.int64)).sum(axis=-1)


def _templated(predict: Predict, X: np.ndarray, R: np.ndarray, masks: np.ndarray, buf: np.ndarray) -> np.ndarray:
    """``_enumerated`` when one instance's ``c · m`` rows span several blocks (``m <= rows < c · m``).

    Blocks of ``nc = 2^L`` coalitions aligned on multiples of ``nc`` share their low ``L`` bits (all subsets of
    features ``0..L-1``) and fix every higher bit. So the block is written once per instance (low features from the
    masks, high ones from the reference) and, from one block to the next, only the columns of the high bits that
    changed are rewritten (about two per block): same hybrid rows as a full rebuild, a fraction of the copying.
    ``predict`` must not write into its input (the buffer is reused)."""
    n, d = X.shape
    c, m = masks.shape[0], R.shape[1]
    nc = 1 << ((buf.shape[0] // m).bit_length() - 1)
    low = nc.bit_length() - 1
    hybrid = buf[:nc * m].reshape(nc, m, d)
    columns = np.ascontiguousarray(masks[:nc].T)
    V = np.empty((n, c))
    shared = R.shape[0] == 1
    for k in range(n):
        x, r = X[k], R[0] if shared else R[k]
        if k == 0 or not shared:
            np.copyto(hybrid, r[None])
        else:  # the shared reference is still in place outside the mask: reset the high columns only
            hybrid[:, :, low:] = r[None, :, low:]
        for i in range(low):  # bits >= low are 0 below nc: high features stay r
            np.copyto(hybrid[:, :, i], x[i], where=columns[i, :nc, None])
        applied = 0
        for s in range(0, c, nc):
            high = s >> low
            changed = high ^ applied
            for b in range(changed.bit_length()):
                if (changed >> b) & 1:
                    i = low + b
                    hybrid[:, :, i] = x[i] if (high >> b) & 1 else r[None, :, i]
            applied = high
            out = _scalar_output(predict(buf[:nc * m]), nc * m)
            V[k, s:s + nc] = out.reshape(nc, m).mean(axis=1)
    return V


def _enumerated(predict: Predict, X: np.ndarray, R: np.ndarray, masks: np.ndarray, buf: np.ndarray) -> np.ndarray:
    """``V[nk, c]`` for instances ``X[nk, d]`` and references ``R[nr, m, d]`` (``nr`` is 1 or ``nk``)."""
    n, d = X.shape
    c, m = masks.shape[0], R.shape[1]
    if m <= buf.shape[0] < c * m:
        return _templated(predict, X, R, masks, buf)
    V = np.zeros((n, c))
    partial = m > buf.shape[0]
    # Whole instances per block and one shared reference set: outside the masks every block holds the same
    # reference rows, so they are written once and each block only writes its instances' x (one pass, not two).
    keep = R.shape[0] == 1 and c * m <= buf.shape[0]
    columns = np.ascontiguousarray(masks.T)
    for b, (ks, cs, js) in enumerate(blocks(n, c, m, buf.shape[0])):
        nk, nc, nm = ks.stop - ks.start, cs.stop - cs.start, js.stop - js.start
        rows = nk * nc * nm
        hybrid = buf[:rows].reshape(nk, nc, nm, d)
        if not (keep and b):
            np.copyto(hybrid, R[ks, None, js, :] if R.shape[0] > 1 else R[None, :, js, :])
        if rows * d <= SMALL_BLOCK_CELLS:  # one call: on a small block numpy's per-call cost dominates
            np.copyto(hybrid, X[ks, None, None, :], where=masks[None, cs, None, :])
        else:
            for i in range(d):  # column by column: long inner loops (a [.., d] mask makes numpy loop d at a time)
                np.copyto(hybrid[..., i], X[ks, None, None, i], where=columns[i, None, cs, None])
        out = _scalar_output(predict(buf[:rows]), rows).reshape(nk, nc, nm)
        if partial:
            V[ks, cs] += out.sum(axis=2)
        elif nm == 1:
            V[ks, cs] = out[:, :, 0]  # the mean of one value is that value, bit for bit
        else:
            V[ks, cs] = out.mean(axis=2)
    return V / m if partial else V


def _gathered(table: np.ndarray, X: np.ndarray, R: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``V[nk, c]`` from a corner table: hybrid code ``(code(x) & S) | (code(r) & ~S)`` for every coalition ``S``."""
    n, c, m = X.shape[0], codes.shape[0], R.shape[1]
    xc, rc = _codes(X), _codes(R)
    full = (1 << X.shape[1]) - 1
    V = np.zeros((n, c))
    partial = m > GATHER_ROWS
    for ks, cs, js in blocks(n, c, m, GATHER_ROWS):
        S = codes[cs]
        r = rc[ks, None, js] if rc.shape[0] > 1 else rc[None, :, js]
        hybrid = (xc[ks, None, None] & S[None, :, None]) | (r & (full ^ S)[None, :, None])
        out = table[hybrid]
        if partial:
            V[ks, cs] += out.sum(axis=2)
        else:
            V[ks, cs] = out.mean(axis=2)
    return V / m if partial else V


def _buffer(rows: int, d: int) -> np.ndarray:
    """The hybrid buffer: ``BLOCK_ROWS`` rows, or fewer when the whole game has fewer (a small game then neither
    maps nor faults in a 8k-row buffer; it is still one block, so the blocks and their ``predict`` calls are the
    same)."""
    return np.empty((max(1, min(BLOCK_ROWS, rows)), d))


def game_values(predict: Predict, X: np.ndarray, R: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``V[n, 2^d]``, ``V[k, S] = mean_j f(x_k on S, R[k or 0, j] on N\\S)``; ``R`` is ``[1 or n, m, d]``.

    The whole matrix is returned (``8 · n · 2^d`` bytes); ``game_attributions`` never holds more than a chunk."""
    if is_binary(X, R):
        table = corner_table(predict, X.shape[1], masks)
        return _gathered(table, X, R, np.arange(masks.shape[0], dtype=np.int64))
    return _enumerated(predict, X, R, masks, _buffer(X.shape[0] * masks.shape[0] * R.shape[1], X.shape[1]))


def game_attributions(
    predict: Predict, X: np.ndarray, R: np.ndarray, masks: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """``V @ W`` computed in instance chunks of at most ``VALUE_CELLS`` value cells (see ``game_values``)."""
    n, d = X.shape
    c = masks.shape[0]
    step = max(1, VALUE_CELLS // c)
    out = np.empty((n, weights.shape[1]))
    binary = is_binary(X, R)
    table = corner_table(predict, d, masks) if binary else None
    codes = np.arange(c, dtype=np.int64)
    buf = None if binary else _buffer(min(n, step) * c * R.shape[1], d)
    for k in range(0, n, step):
        sl = slice(k, min(k + step, n))
        Rk = R[sl] if R.shape[0] > 1 else R
        if table is not None:
            V = _gathered(table, X[sl], Rk, codes)
        else:
            assert buf is not None
            V = _enumerated(predict, X[sl], Rk, masks, buf)
        out[sl] = V @ weights
    return out
