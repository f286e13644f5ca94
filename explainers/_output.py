"""Turn what an explainer returned into a real float64 array, or say clearly (naming the explainer) why not.

Used by ``Explainer._validate``. Accepted: numpy arrays and array-likes of real numbers, torch tensors (detached
and moved to the CPU first, so ``requires_grad`` or a GPU tensor is not an error). Refused with an
``ExplainerOutputError`` naming the explainer: complex values (numpy would drop the imaginary part silently),
``None``, strings, ragged or object arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_real_array"]


def to_real_array(out: Any, name: str, error: type[Exception]) -> np.ndarray:
    """``out`` as a float64 ndarray; raises ``error`` (one line naming ``name``) when it is not real numbers."""
    if out is None:
        raise error(f"{name} returned None, not an array of attributions")
    if hasattr(out, "detach") and hasattr(out, "cpu"):  # a torch tensor (maybe requires_grad or on a GPU)
        out = out.detach().cpu().numpy()
    if isinstance(out, (str, bytes)):
        raise error(f"{name} returned {type(out).__name__}, not an array of attributions")
    try:
        raw = np.asarray(out)
    except (TypeError, ValueError) as exc:
        raise error(f"{name} returned {type(out).__name__}, not an array: {exc}") from None
    if np.iscomplexobj(raw):
        raise error(f"{name} returned complex attributions (dtype {raw.dtype}); return real numbers")
    if raw.dtype.kind == "O":  # e.g. a list mixing numpy scalars: numbers are accepted, complex ones are not
        try:
            return np.asarray(raw.tolist(), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise error(f"{name} returned an object array that is not real numbers: {exc}") from None
    if raw.dtype.kind not in "biuf":
        raise error(f"{name} returned an array of {raw.dtype} ({type(out).__name__}), not real numbers")
    return raw.astype(np.float64, copy=False)
