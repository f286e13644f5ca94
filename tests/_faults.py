"""Faulty explainers for the fault-injection tests: each misbehaves in one way an adversarial user found.

``register_faults()`` registers them (idempotent) so the CLI and the pytest plugin can select them by name;
``unregister_faults()`` removes them again.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import time

import numpy as np

from xaicheck.explainers.base import EXPLAINERS, Capabilities, FunctionExplainer, register


def _raises(model, X, *, baseline, background, target, seed):
    raise RuntimeError("fault: raises")


def _sys_exit(model, X, *, baseline, background, target, seed):
    sys.exit(3)


def _os_exit(model, X, *, baseline, background, target, seed):
    os._exit(7)


def _sigkill(model, X, *, baseline, background, target, seed):
    os.kill(os.getpid(), signal.SIGKILL)


def _segfault(model, X, *, baseline, background, target, seed):
    faulthandler.disable()  # the death is the test's point: no "Fatal Python error" dump in the test output
    os.kill(os.getpid(), signal.SIGSEGV)


def _hangs(model, X, *, baseline, background, target, seed):
    time.sleep(600)


def _swallows_alarm(model, X, *, baseline, background, target, seed):
    """Catches every exception including the alarm's and keeps going; then blocks SIGALRM."""
    end = time.monotonic() + 600
    while time.monotonic() < end:
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(600)
        except BaseException:  # noqa: BLE001 - that is the fault
            continue


def _interrupts(model, X, *, baseline, background, target, seed):
    raise KeyboardInterrupt


def _complex(model, X, *, baseline, background, target, seed):
    return X.astype(complex) * 1j


def _none(model, X, *, baseline, background, target, seed):
    return None


def _ignores_seed(model, X, *, baseline, background, target, seed):
    return np.random.default_rng().normal(size=X.shape)  # fresh OS entropy: differs on every call


def _grad_tensor(model, X, *, baseline, background, target, seed):
    import torch

    t = torch.tensor(X - baseline, requires_grad=True)
    return t * 1.0  # a tensor that requires grad: detached by the validation, not an error


FAULTS = {
    "fault_raises": (_raises, "error", "RuntimeError: fault: raises"),
    "fault_sys_exit": (_sys_exit, "error", "sys.exit(3)"),
    "fault_os_exit": (_os_exit, "error", "exited with code 7"),
    "fault_sigkill": (_sigkill, "error", "killed by SIGKILL"),
    "fault_segfault": (_segfault, "error", "killed by SIGSEGV"),
    "fault_hangs": (_hangs, "timeout", "timed out after"),
    "fault_swallows_alarm": (_swallows_alarm, "timeout", "did not stop at the alarm"),
    "fault_interrupts": (_interrupts, "error", "KeyboardInterrupt raised inside the cell"),
    "fault_complex": (_complex, "error", "fault_complex returned complex attributions"),
    "fault_none": (_none, "error", "fault_none returned None"),
}
#: Explainers that run fine but are special: nondeterministic (flagged), a grad tensor (accepted).
SPECIAL = {"fault_ignores_seed": _ignores_seed, "fault_grad_tensor": _grad_tensor}
CAPS = Capabilities(uses_baseline=True)


def make(name: str) -> FunctionExplainer:
    fn = FAULTS[name][0] if name in FAULTS else SPECIAL[name]
    return FunctionExplainer(fn, name, capabilities=CAPS)


def register_faults() -> list[str]:
    names = [*FAULTS, *SPECIAL]
    for name in names:
        if name not in EXPLAINERS.registered():
            register(make(name))
    return names


def unregister_faults() -> None:
    for name in [*FAULTS, *SPECIAL]:
        EXPLAINERS.remove(name)
