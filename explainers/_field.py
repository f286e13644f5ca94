"""The field: where an explainer runs, holding a truth-free model and its inputs and nothing else (issue 23).

An explainer is examined in the process that runs the check, and that process holds everything an explainer must not
see: the ground truth, the case and its twins, the check and its diagnostics. Sealing the model object (``seal``)
stops reading attributes, but not introspection: closures, ``__self__``, the call stack and ``gc.get_objects()`` all
lead back to the exam from inside that process. So ``Explainer.explain`` does not call ``_explain`` there. It sends the
question to a **field process** and waits for the answer:

- The field processes are forked from a **zygote** (``multiprocessing``'s forkserver): a process started fresh from
  the interpreter, never a fork of the exam, that imports numpy, torch, the explainer adapters and the modules that
  define the zoo's torch module classes (``TORCH_MODULE_CLASSES``: code, which unpickling a module would import
  anyway) and holds no model, truth, case or check. A field process is one fork of it per exam process (per unit of
  cells in a run: up to 64 cells of one explainer and seed, ``axioms.unit``, each starting on a rewound field,
  :func:`rewind`; per cell elsewhere).
- What crosses, per model (once): a **manifest** of the sealed view (``SealedModel.manifest``): its opaque per-run
  name, anonymous feature names, domain, shapes, forms, linear coefficients; the pickled torch module and fitted
  estimator when an explainer first asks for them; per question: the explainer (pickled), ``X``, baseline, background, target,
  seed. In the field they are rebuilt as a :class:`FieldModel` whose ``predict`` (and text methods) call back to the
  exam process, which evaluates the sealed view and answers with numbers only.
- What comes back: the attribution as a plain array (converted in the field), or the exception the explainer raised.

So an explainer that searches closures, frames, ``gc.get_objects()`` or modules finds the libraries, its own inputs
and a model that answers queries (``tests/test_field_seal.py``). It can still query the model -- as in the field.

Each question carries a sequence number and each answer quotes it; a broken exchange (a timeout in the exam process,
a field process that died) kills the field process, and the next question starts a fresh one. The field process dies
with its exam process (a watch on the exam's pidfd: it is the zygote's child, not the exam's) and with the zygote
(``PR_SET_PDEATHSIG``), and exits on EOF when the exam closes the pipe.

Cost (``benchmarks/bench_field.py``): the zygote starts once per run (about a second: the imports); a field process
is a fork of it; each question costs a round trip of pickled arrays.

``XAICHECK_FIELD=inline`` runs ``_explain`` in the exam process instead (for debugging an adapter with pdb): that
mode is **not sealed** and a run records it in its provenance.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import ctypes
import multiprocessing
import multiprocessing.util  # noqa: F401 - its exit hook is registered before ours, so ours runs first
import os
import pickle
import signal
import sys
import threading
from typing import Any, Callable, Iterator

import numpy as np

from xaicheck.core import limits
from xaicheck.core.limits import current_limits

__all__ = ["FIELD_ENV", "FieldModel", "FieldError", "field_mode", "explain_in_field", "warm", "reset", "rewind",
           "stats"]

#: ``XAICHECK_FIELD=inline`` runs explainers in the exam process (unsealed; for debugging adapters).
FIELD_ENV = "XAICHECK_FIELD"
#: The modules defining the zoo's torch module classes (code only: importing one builds no model and no truth). A
#: pickled torch module names its class, so the first one a field process unpickles imports its module: 50-80 ms per
#: cell when the zygote had not (measured on ``mlp_base``); preloaded, every fork shares them.
TORCH_MODULE_CLASSES = tuple(f"xaicheck.synthetic_models.{m}" for m in (
    "additive", "adversarial", "affine", "attention_net", "behaviour_units", "equivalence", "image", "image_additive",
    "image_cnn", "image_watermark", "scaled", "text_interactions", "zoo"))
#: Modules the zygote imports before it forks (the libraries adapters use; importing them costs nothing per cell).
PRELOAD = ("numpy", "torch", "sklearn.linear_model", "sklearn.inspection", "captum.attr", "captum.attr._core.lrp",
           "captum.attr._utils.lrp_rules", "shap", "lime.lime_tabular", "lime.lime_text", "saliency.core",
           "saliency.core.guided_ig", "skimage.segmentation", "xgboost", "lightgbm", "xaicheck.explainers.base",
           "xaicheck.explainers._output", "xaicheck.explainers._field", *TORCH_MODULE_CLASSES,
           "xaicheck.explainers._zygote")
#: Text-model methods an explainer may call (answered by the exam process).
TEXT_METHODS = ("predict_text", "vectorize", "render", "token_index")
#: What the field process may ask the exam process to do with a sealed view.
_CALLABLE = frozenset({"predict", "pickled_torch_module", "pickled_embedding_module", "pickled_estimator",
                       *TEXT_METHODS})
#: The sealed views and explainers whose manifests this process has sent (bounded: oldest dropped first).
MAX_REMEMBERED = 512


class FieldError(RuntimeError):
    """The field process failed outside the explainer (died, or answered out of turn)."""


def field_mode() -> str:
    """``"process"`` (default: sealed) or ``"inline"`` (``XAICHECK_FIELD=inline``: unsealed, for debugging)."""
    mode = os.environ.get(FIELD_ENV, "process").strip().lower() or "process"
    if mode not in ("process", "inline"):
        raise ValueError(f"{FIELD_ENV} must be 'process' or 'inline', not {mode!r}")
    return mode


# ----------------------------------------------------------------------------------------------------------- exam side

_CONTEXT: Any = None
_LOCK = threading.Lock()
_STATS = {"questions": 0, "callbacks": 0, "starts": 0, "rewinds": 0, "rewinds_refused": 0}


def _context() -> Any:
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        _CONTEXT = ctx
    return _CONTEXT


def warm() -> None:
    """Start the zygote now (a run calls this before it forks its workers, so they share one)."""
    if field_mode() != "process":
        return
    global _OWNER
    from multiprocessing import forkserver

    _context()
    blas_controller()  # found here, inherited by the cells this process forks (see blas_controller)
    with _LOCK:
        if _OWNER is None or _OWNER == os.getpid():
            started = forkserver._forkserver._forkserver_pid is None  # type: ignore[attr-defined]
            forkserver.ensure_running()
            _OWNER = os.getpid()
            if started:  # wait for its imports here, so no cell's time (or timeout) includes them
                probe = _Channel()
                probe.conn.send(("ping", 0))
                probe.conn.recv_bytes()
                probe.close()


class _Channel:
    """This process's field process: a pipe, what has been sent through it, and the next sequence number."""

    def __init__(self) -> None:
        ctx = _context()
        self.conn, child = ctx.Pipe(duplex=True)
        threads = _torch_threads()
        # the field runs under this (cell's) process's limits and writes into its stderr (the cell's capped capture)
        self.proc = ctx.Process(target=_serve, args=(child, threads, os.getpid(), current_limits(), _Fd(2)),
                                daemon=True, name="xaicheck-field")
        with _without_main(), _inherited_zygote():
            self.proc.start()
        child.close()
        self.pid = os.getpid()
        self.seq = 0
        self.models: dict[int, tuple[Any, int]] = {}  # id(sealed view) -> (view, handle); the view is kept alive
        self.explainers: dict[int, tuple[Any, int]] = {}
        self.handles = 0
        _STATS["starts"] += 1

    def close(self, grace: float = 2.0) -> None:
        """Close the pipe (the field process reads EOF and exits, running its libraries' cleanup); kill it if it is
        still there after ``grace`` seconds (busy in an explainer that hangs)."""
        try:
            self.conn.close()
        finally:
            self.proc.join(timeout=grace)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(timeout=5)

    def _handle(self, table: dict[int, tuple[Any, int]], obj: Any, message: Callable[[int], tuple]) -> int:
        entry = table.get(id(obj))
        if entry is not None and entry[0] is obj:
            return entry[1]
        self.handles += 1
        handle = self.handles
        self.conn.send(message(handle))
        table[id(obj)] = (obj, handle)
        if len(table) > MAX_REMEMBERED:
            oldest = next(iter(table))
            self.conn.send(("forget", "model" if table is self.models else "explainer", table.pop(oldest)[1]))
        return handle

    def ask(self, explainer: Any, sealed: Any, X: np.ndarray, baseline: Any, background: Any, target: Any,
            seed: int) -> tuple[bool, Any]:
        """``(True, attribution)`` or ``(False, the exception the explainer raised)``."""
        import cloudpickle

        e = self._handle(self.explainers, explainer, lambda h: ("explainer", h, cloudpickle.dumps(explainer)))
        m = self._handle(self.models, sealed, lambda h: ("model", h, sealed.manifest()))
        self.seq += 1
        seq = self.seq
        self.conn.send(("explain", seq, e, m, X, baseline, background, target, seed))
        _STATS["questions"] += 1
        views = {handle: view for view, handle in self.models.values()}
        while True:
            try:
                msg = safe_loads(self.conn.recv_bytes(limits.REPLY_CAP))
            except OSError as exc:  # longer than the cap: refused before its body is read
                raise FieldError(f"refused a message of the explainer's process longer than {limits.REPLY_CAP} "
                                 f"bytes (reply cap): {exc}") from None
            except EOFError:
                self.proc.join(timeout=2.0)  # the pipe closes a moment before the exit status is readable
                code = self.proc.exitcode
                raise FieldError(f"the explainer's process died: {_describe_exit(code)}") from None
            except pickle.UnpicklingError as exc:
                raise FieldError(f"refused what the explainer's process sent: {exc}") from None
            kind = msg[0]
            if msg[1] != seq:
                raise FieldError(f"the field process answered question {msg[1]} while {seq} was asked")
            if kind == "call":
                _, _, handle, method, args, kwargs = msg
                _STATS["callbacks"] += 1
                try:
                    if method not in _CALLABLE:
                        raise AttributeError(f"the field may not call {method!r}")
                    value = getattr(views[handle], method)(*args, **kwargs)
                    if method == "predict":
                        value = np.asarray(value, dtype=np.float64)
                    self.conn.send(("ok", seq, value))
                except Exception as exc:  # noqa: BLE001 - the model's own error goes back to the explainer
                    self.conn.send(("raise", seq, _portable(exc)))
            elif kind == "result":
                return True, msg[2]
            elif kind == "error":
                return False, msg[2]
            else:
                raise FieldError(f"the field process sent {kind!r}")


_CHANNEL: _Channel | None = None


def _channel() -> _Channel:
    global _CHANNEL
    if _CHANNEL is None or _CHANNEL.pid != os.getpid() or not _CHANNEL.proc.is_alive():
        _CHANNEL = _Channel()  # a forked exam process never reuses its parent's pipe
    return _CHANNEL


@atexit.register
def _at_exit() -> None:
    reset()  # registered after multiprocessing's own exit hook, so it runs first: the field exits cleanly


def reset() -> None:
    """End this process's field process (the next question starts a fresh one): a new cell in the same process."""
    global _CHANNEL
    with _LOCK:
        if _CHANNEL is not None and _CHANNEL.pid == os.getpid():
            _CHANNEL.close()
        _CHANNEL = None


def rewind() -> bool:
    """A new cell in this process keeps its field process (``axioms.unit``: cells of one explainer and seed) if it
    is as it started, rewound: it drops every explainer and model it was sent (the next question sends fresh
    copies), restores the global random states it started with and gets a new CPU budget. A field
    process that is not as it started (:func:`_residue`: descriptors left open, child processes, threads, another
    working directory or environment, a patched library function, a signal handler, a changed global default) or
    does not answer is ended instead: the next question starts a fresh one.
    Returns whether it was kept (``False`` also when there was none)."""
    global _CHANNEL
    with _LOCK:
        channel = _CHANNEL
        if channel is None or channel.pid != os.getpid():
            return False
        try:
            channel.seq += 1
            channel.conn.send(("rewind", channel.seq))
            if not channel.conn.poll(REWIND_WAIT):
                raise FieldError("no answer to rewind")
            reply = safe_loads(channel.conn.recv_bytes(limits.REPLY_CAP))
            kept = reply == ("rewound", channel.seq, "")
        except (OSError, EOFError, ValueError, pickle.UnpicklingError, FieldError) as exc:
            kept, reply = False, exc
        _STATS["rewinds"] += 1
        if not kept:
            _STATS["rewinds_refused"] += 1
            if os.environ.get("XAICHECK_DEBUG_REWIND"):
                print(f"xaicheck: field process not rewound: {reply!r:.300}", file=sys.stderr)
            channel.close(grace=0.0)
            _CHANNEL = None
            return False
        channel.models.clear()
        channel.explainers.clear()
        return True


#: Seconds the exam waits for a field process to say it has rewound (it answers at once; a busy one is ended).
REWIND_WAIT = 5.0


def explain_in_field(explainer: Any, sealed: Any, X: np.ndarray, *, baseline: Any, background: Any, target: Any,
                     seed: int) -> Any:
    """``explainer._explain(sealed, X, ...)`` run in this process's field process; its answer as an array, or the
    exception it raised, re-raised here. Any failure of the exchange itself ends the field process."""
    global _CHANNEL
    with _LOCK:
        channel = _channel()
        try:
            ok, value = channel.ask(explainer, sealed, X, baseline, background, target, seed)
        except BaseException:
            channel.close(grace=0.0)  # a timeout, an interrupt or a broken pipe: the field's state is unknown
            _CHANNEL = None
            raise
    if not ok:
        raise value
    return value


def stats() -> dict[str, int]:
    """Questions, callbacks and field-process starts in this process."""
    return dict(_STATS)


_BLAS: Any = None


def blas_controller() -> Any:
    """This process's ``threadpoolctl.ThreadpoolController``, found once (``None`` without threadpoolctl).

    Built in the zygote (``_zygote``) and in the process that forks the cells (:func:`warm`), so forks inherit it: the
    libraries are the ones loaded then (the zygote's preloads, the runner's imports), and reading or setting their pool
    sizes through it costs microseconds, not the 20-70 ms of a fresh ``threadpool_limits`` in a forked process."""
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        except Exception:  # noqa: BLE001 - threadpoolctl is optional
            _BLAS = False
    return _BLAS or None


def _torch_threads() -> tuple[int | None, int | None]:
    """This process's torch intra-op threads and its smallest BLAS/OpenMP pool: the field process uses the same
    (a cell runs with one of each; ``benchmarks.threads``)."""
    import sys

    torch = sys.modules.get("torch")
    blas = None
    controller = blas_controller()
    if controller is not None:
        sizes = [int(p["num_threads"]) for p in controller.info()]
        blas = min(sizes) if sizes else None
    return (None if torch is None else int(torch.get_num_threads())), blas


#: The process that started the zygote (forks of it reuse the zygote: its socket is valid in them too).
_OWNER: int | None = None


@contextlib.contextmanager
def _inherited_zygote() -> Iterator[None]:
    """In a fork of the process that started the zygote, use that zygote: ``forkserver.ensure_running`` would call
    ``waitpid`` on a process that is not this one's child and fail. Elsewhere start (or check) it as usual."""
    global _OWNER
    from multiprocessing import forkserver

    server = forkserver._forkserver  # type: ignore[attr-defined]
    inherited = server._forkserver_pid is not None and _OWNER is not None and _OWNER != os.getpid()
    if not inherited:
        server.ensure_running()
        _OWNER = os.getpid()
        yield
        return
    server.ensure_running = lambda: None  # the instance attribute shadows the method while this process starts one
    try:
        yield
    finally:
        del server.ensure_running


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """Start a field process without the exam's ``__main__``, from any process: ``multiprocessing`` would re-import the exam's main
    script (or module) in the new process; the field needs only what the zygote preloaded and the pickles it gets."""
    from multiprocessing import spawn

    original = spawn.get_preparation_data

    def preparation(name: str) -> dict[str, Any]:
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    # a pool worker is "daemonic" and multiprocessing refuses it children (they could outlive it); a field process
    # cannot: it dies with its exam process (PR_SET_PDEATHSIG) and on the pipe's EOF
    config = multiprocessing.current_process()._config  # type: ignore[attr-defined]
    daemonic = config.get("daemon")
    spawn.get_preparation_data = preparation
    config["daemon"] = False
    try:
        yield
    finally:
        spawn.get_preparation_data = original
        if daemonic is not None:
            config["daemon"] = daemonic


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit code"
    if code == -signal.SIGXCPU:
        return "killed by SIGXCPU: CPU time limit exceeded (RLIMIT_CPU, the cell's limit)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles what the field process sends the exam: numbers, strings, containers, numpy arrays and exceptions of
    known types -- never an arbitrary class. A pickle is a program: an answer whose ``__reduce__`` called
    ``exec`` would run the explainer's code in the exam process, where the truth is."""

    SAFE = {
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("builtins", "complex"), ("builtins", "slice"), ("builtins", "frozenset"),
        ("builtins", "set"), ("builtins", "bytearray"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.SAFE or module.startswith("numpy.dtypes"):
            return super().find_class(module, name)
        if module == "builtins":
            import builtins

            obj = getattr(builtins, name, None)
            if isinstance(obj, type) and issubclass(obj, Exception):
                return obj
        if module == "xaicheck.core.errors":
            from xaicheck.core import errors

            obj = getattr(errors, name, None)
            if isinstance(obj, type) and issubclass(obj, Exception):
                return obj
        raise pickle.UnpicklingError(f"the field may not send {module}.{name}")


def safe_loads(data: bytes) -> Any:
    """``pickle.loads`` restricted to :class:`_SafeUnpickler`'s types."""
    import io

    return _SafeUnpickler(io.BytesIO(data)).load()


def plain_dumps(obj: Any) -> bytes:
    """``pickle`` without the process's ``copyreg`` reducers: what the field sends the exam is plain data however the
    explainer's libraries set up pickling (``distributed`` installs ``tblib``'s exception reducers, which the exam's
    decoder refuses, so a ``ValueError`` would arrive as an undecodable program)."""
    import io

    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=4)  # 5 would send arrays through numpy._frombuffer
    pickler.dispatch_table = {}
    pickler.dump(obj)
    return buf.getvalue()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if the exam may unpickle it (a builtin or xaicheck error whose arguments are plain data), else a
    ``RuntimeError`` with its type and message."""
    try:
        safe_loads(plain_dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------------------------- field side


class FieldModel:
    """The model as the field process sees it: the sealed view's manifest, with ``predict`` and the text methods
    answered by the exam process. Built per question, so a fitted estimator is a fresh copy each time."""

    def __init__(self, manifest: dict[str, Any], ask: Callable[..., Any], store: dict[str, Any]) -> None:
        for attr, value in manifest["attributes"].items():
            object.__setattr__(self, attr, value)
        object.__setattr__(self, "n_features", manifest["n_features"])
        object.__setattr__(self, "forms", frozenset(manifest["forms"]))
        object.__setattr__(self, "_ask", ask)
        object.__setattr__(self, "_store", store)  # per model in this field process: the torch module, estimator bytes
        object.__setattr__(self, "_estimator_copy", [])
        if manifest.get("linear_coefficients") is not None:
            w, b = manifest["linear_coefficients"]
            w = np.array(w, dtype=np.float64)
            w.setflags(write=False)
            object.__setattr__(self, "linear_coefficients", (w, float(b)))
        for method in manifest.get("text_methods", ()):
            object.__setattr__(self, method, _remote(ask, method))
        if manifest.get("embedding"):
            object.__setattr__(self, "embedding_module", self._embedding_module)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a sealed model is read-only (tried to set {name!r})")

    def predict(self, X: Any) -> np.ndarray:
        """f(X) as the model computes it (evaluated by the exam process)."""
        from xaicheck.synthetic_models.base import as_batch

        return np.asarray(self._ask("predict", np.array(as_batch(X, self.n_features))), dtype=np.float64)

    __call__ = predict

    def predict_target(self, X: Any, target: Any = None) -> np.ndarray:
        from xaicheck.synthetic_models.targets import select_column

        return select_column(self.predict(X), target, self.name)

    def torch_module(self) -> Any:
        """A fresh deep copy of the model's torch module (``None`` where none exists); the module crosses once per
        model, when an explainer first asks for it."""
        if "torch" not in self.forms:
            return None
        if "torch" not in self._store:
            blob = self._ask("pickled_torch_module")
            self._store["torch"] = None if blob is None else pickle.loads(blob)
        module = self._store["torch"]
        return None if module is None else copy.deepcopy(module)

    def _embedding_module(self) -> Any:
        """A fresh copy of a token-id model's network from its embedding layer on (crosses once per model)."""
        if "embedding" not in self._store:
            blob = self._ask("pickled_embedding_module")
            self._store["embedding"] = None if blob is None else pickle.loads(blob)
        module = self._store["embedding"]
        return None if module is None else copy.deepcopy(module)

    @property
    def sklearn_estimator(self) -> Any:
        """A private copy of the fitted estimator (one per question), or ``None``."""
        if "estimator" not in self._store:
            self._store["estimator"] = self._ask("pickled_estimator")
        blob = self._store["estimator"]
        if blob is None:
            return None
        if not self._estimator_copy:
            self._estimator_copy.append(pickle.loads(blob))
        return self._estimator_copy[0]

    def __repr__(self) -> str:
        return f"<SealedModel {getattr(self, 'name', '?')!r} d={self.n_features}>"


def _remote(ask: Callable[..., Any], method: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return ask(method, *args, **kwargs)

    call.__name__ = method
    return call


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the exam process that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - elsewhere the pipe's EOF ends it
        pass


def _watch(exam_pid: int, ready: threading.Event | None = None) -> None:
    """End this field process the moment its exam process ends (killed on a timeout, or a run aborted), even while
    an explainer is still computing: the field is a child of the zygote, not of the exam, so nothing else would.
    ``ready`` is set once the watch holds what it watches with."""
    import select
    import time

    try:
        fd = os.pidfd_open(exam_pid)
    except (AttributeError, OSError):
        fd = None
    if ready is not None:
        ready.set()
    while True:
        if fd is not None:
            select.select([fd], [], [])
            os._exit(0)
        try:
            os.kill(exam_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(0.5)


class _Fd:
    """A descriptor of the exam process handed to its field process (``multiprocessing`` passes it over the
    zygote's socket, as it passes the pipe)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple:
        from multiprocessing.reduction import DupFd

        return _rebuild_fd, (DupFd(self.fd),)


def _rebuild_fd(dup: Any) -> int:
    return dup.detach()


def _serve(conn: Any, threads: tuple[int | None, int | None], exam_pid: int,
           cell_limits: dict[str, tuple[int, int]] | None = None, out: int | None = None) -> None:
    """The field process: rebuild explainers and models from what the exam sends; answer questions until EOF.

    It runs under its exam process's limits (``cell_limits``: open files, address space and CPU time, the last
    counted from the field's own start; ``xaicheck.core.limits``), and its descriptors 1 and 2 are the exam's
    stderr (``out``), which in a cell's process is the cell's capped output capture."""
    _die_with_parent()
    if cell_limits:
        limits.lower_to(dict(cell_limits))
    if out is not None:
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
    watching = threading.Event()
    threading.Thread(target=_watch, args=(exam_pid, watching), daemon=True, name="xaicheck-field-watch").start()
    torch_threads, blas_threads = threads
    if torch_threads is not None:
        import torch

        torch.set_num_threads(torch_threads)
    controller = blas_controller()
    if blas_threads is not None and controller is not None:
        try:
            controller.limit(limits=blas_threads)
        except Exception:  # noqa: BLE001
            pass
    explainers: dict[int, Any] = {}
    manifests: dict[int, dict[str, Any]] = {}
    stores: dict[int, dict[str, Any]] = {}
    fresh = _random_states()
    budget = _cpu_soft()
    watching.wait(5.0)
    start = _state()  # after the watch thread opened its pidfd: what a rewound field must still look like
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        kind = msg[0]
        if kind == "explainer":
            explainers[msg[1]] = pickle.loads(msg[2])
        elif kind == "model":
            manifests[msg[1]], stores[msg[1]] = msg[2], {}
        elif kind == "forget":
            table = manifests if msg[1] == "model" else explainers
            table.pop(msg[2], None)
            if msg[1] == "model":
                stores.pop(msg[2], None)
        elif kind == "explain":
            _answer(conn, msg, explainers, manifests, stores)
        elif kind == "ping":
            conn.send_bytes(plain_dumps(("pong", msg[1])))
        elif kind == "rewind":  # a new cell of the same unit (``rewind``)
            explainers.clear()
            manifests.clear()
            stores.clear()
            _restore_random_states(fresh)
            if budget is not None:
                limits.cpu_budget(budget)
            conn.send_bytes(plain_dumps(("rewound", msg[1], _residue(start))))
        del msg


#: The modules (and classes) whose functions a rewound field process must still hold unchanged: an explainer that
#: patches one of them (wrapping ``torch.autograd.grad``, replacing a shap or captum function) gets a fresh field
#: process for its next cell. Read with ``vars`` (no module ``__getattr__``), compared by identity: ~2,900 names.
WATCHED_MODULES = ("numpy", "torch", "torch.autograd", "torch.nn.functional", "torch.nn", "captum.attr", "shap",
                   "lime.lime_tabular", "lime.lime_base", "sklearn.linear_model", "scipy.special")


def _library_functions() -> tuple[tuple[str, str, int], ...]:
    """``(module, name, id)`` of every callable of :data:`WATCHED_MODULES` loaded here, and of every attribute of
    ``torch.Tensor`` and ``numpy.ndarray``."""
    out: list[tuple[str, str, int]] = []
    for name in WATCHED_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        for attr, value in list(vars(module).items()):
            if not attr.startswith("__") and callable(value):
                out.append((name, attr, id(value)))
    torch = sys.modules.get("torch")
    for cls in ((torch.Tensor,) if torch is not None else ()) + (np.ndarray,):
        out += [(cls.__name__, attr, id(value)) for attr, value in list(vars(cls).items())]
    return tuple(sorted(out))


def _state() -> dict[str, Any]:
    """What a field process must still look like to serve another cell: its open descriptors, child processes,
    threads, working directory, environment, the functions of the libraries explainers use
    (:func:`_library_functions`), its signal handlers and its global defaults (torch's default dtype, threads,
    deterministic-algorithms and grad modes; numpy's floating-point error handling; the recursion limit)."""
    me = os.getpid()
    try:
        fds = sorted(int(fd) for fd in os.listdir(f"/proc/{me}/fd"))
        tasks = os.listdir(f"/proc/{me}/task")
        children = []
        for tid in tasks:
            with open(f"/proc/{me}/task/{tid}/children") as handle:
                children += handle.read().split()
    except (OSError, ValueError):  # not Linux: nothing to compare, never kept
        return {"unknown": os.urandom(8)}
    torch = sys.modules.get("torch")
    return {"descriptors": fds[:-1] if fds else fds,  # the last is the listing's own
            "threads": len(tasks), "children": children, "cwd": os.getcwd(), "environment": dict(os.environ),
            "library functions": _library_functions(), "signal handlers": _signal_handlers(),
            "defaults": (None if torch is None else (str(torch.get_default_dtype()), torch.get_num_threads(),
                                                     torch.are_deterministic_algorithms_enabled(),
                                                     torch.is_grad_enabled()),
                         tuple(sorted(np.geterr().items())), sys.getrecursionlimit())}


def _signal_handlers() -> tuple[tuple[int, int], ...]:
    """``(signal, id of its handler)`` for every signal a handler can be read for."""
    out = []
    for sig in signal.valid_signals():
        try:
            out.append((int(sig), id(signal.getsignal(sig))))
        except (ValueError, OSError):
            continue
    return tuple(out)


def _residue(start: dict[str, Any]) -> str:
    """What differs from ``start`` (:func:`_state`), as one line; ``""`` when nothing does."""
    now = _state()
    return "; ".join(f"{key}: {start.get(key)!r:.80} -> {now.get(key)!r:.80}" for key in sorted(set(start) | set(now))
                     if start.get(key) != now.get(key))


def _random_states() -> tuple[Any, Any, Any]:
    """Python's, numpy's (legacy global) and torch's random states in this process."""
    import random
    import sys

    torch = sys.modules.get("torch")
    return random.getstate(), np.random.get_state(), (torch.get_rng_state() if torch is not None else None)


def _restore_random_states(states: tuple[Any, Any, Any]) -> None:
    import random
    import sys

    random.setstate(states[0])
    np.random.set_state(states[1])
    torch = sys.modules.get("torch")
    if torch is not None and states[2] is not None:
        torch.set_rng_state(states[2])


def _cpu_soft() -> int | None:
    """This process's soft CPU limit (counted from its start: the budget each rewound cell gets again)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_CPU)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def _answer(conn: Any, msg: tuple, explainers: dict[int, Any], manifests: dict[int, dict[str, Any]],
            stores: dict[int, dict[str, Any]]) -> None:
    _, seq, e, m, X, baseline, background, target, seed = msg
    explainer = explainers[e]

    def ask(method: str, *args: Any, **kwargs: Any) -> Any:
        conn.send_bytes(plain_dumps(("call", seq, m, method, args, kwargs)))
        reply = conn.recv()
        if reply[0] == "raise":
            raise reply[2]
        return reply[2]

    model = FieldModel(manifests[m], ask, stores[m])
    X, baseline, background = (_read_only(a) for a in (X, baseline, background))
    try:
        from xaicheck.explainers._output import to_real_array
        from xaicheck.core.errors import ExplainerOutputError

        out = explainer._explain(model, X, baseline=baseline, background=background, target=target, seed=seed)
        reply: tuple = ("result", seq, np.array(to_real_array(out, explainer.name, ExplainerOutputError)))
    except BaseException as exc:  # noqa: BLE001 - everything the explainer raises goes back to the exam
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            exc = RuntimeError(f"{type(exc).__name__} raised inside the explainer")
        reply = ("error", seq, _portable(exc))
    del model, X, baseline, background
    conn.send_bytes(plain_dumps(reply))


def _read_only(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        a = np.array(a, copy=True)
        a.setflags(write=False)
    return a
