"""What the explainer field sees: started in a release environment, this starts the zygote exactly as a run does
(``explainers._field``: forkserver with the adapters' preloads), forks one process from it, and prints as JSON the
library's ``__version__`` and ``__file__`` *as imported in that process* and whether the zygote had preloaded it.

``python -m xaicheck.benchmarks.observatory.probe shap`` -> ``{"preloaded": true, "version": "0.47.2", "file": ...}``
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


def _report(module: str, conn: Any) -> None:
    preloaded = module in sys.modules
    try:
        mod = importlib.import_module(module)
        conn.send({"preloaded": preloaded, "version": str(getattr(mod, "__version__", "?")),
                   "file": str(getattr(mod, "__file__", "?"))})
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        conn.send({"preloaded": preloaded, "error": f"{type(exc).__name__}: {exc}"})
    conn.close()


def field_view(module: str, timeout: float = 300.0) -> dict[str, Any]:
    """Start the zygote, fork one process from it, return what ``import module`` gives there."""
    from xaicheck.explainers import _field

    _field.warm()
    ctx = _field._context()
    parent, child = ctx.Pipe(duplex=False)
    report = importlib.import_module("xaicheck.benchmarks.observatory.probe")._report  # by name, not __main__'s
    proc = ctx.Process(target=report, args=(module, child), daemon=True)
    with _field._without_main(), _field._inherited_zygote():
        proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            return {"error": f"no answer from the field process in {timeout:.0f} s"}
        return parent.recv()
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(json.dumps(field_view(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
