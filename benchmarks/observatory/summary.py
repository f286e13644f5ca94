"""``summary.md`` of an observation: the releases (ran or why not, seconds, what the field imported, changelog line)
and a "changes by release" section: per consecutive pair, the changed cells counted by status transition and the
largest changes listed with the cell's message (its counterexample line) before and after."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from ..escaping import md_escape
from .library import library_explainers


def md_cell(value: str, width: int) -> str:
    """``value`` shortened to ``width`` characters (with …), escaped for a Markdown table cell."""
    text = " ".join(value.split())
    return md_escape(text if len(text) <= width else text[: width - 1] + "…")

__all__ = ["summary_markdown", "MAX_LISTED"]

#: Changed cells listed per pair in the markdown (all of them are in changes.csv).
MAX_LISTED = 30


def _size_key(row: dict[str, Any]) -> tuple[int, float]:
    return (0, 0.0) if row["size"] == "status" else (1, -float(row["size"]))


def summary_markdown(library: str, suite: str, explainers: Sequence[str], releases: Sequence[str],
                     rows: Sequence[dict[str, Any]], changes: Sequence[dict[str, Any]],
                     pairs: Sequence[tuple[str, str, tuple[str, ...]]], with_pins: Sequence[str] = ()) -> str:
    every_name = library_explainers(library)
    every = set(explainers) >= set(every_name)
    out = [f"# {library}: the {suite} suite across releases", "",
           f"Explainers ({len(explainers)}"
           + (f", every registered explainer whose library is {library}" if every else
              f", a subset of {library}'s registered explainers; not run: {', '.join(sorted(set(every_name) - set(explainers)))}")
           + "): " + ", ".join(explainers) + ".", "",
           "Everything but the library is pinned (the project environment); each release is installed alone "
           "(`pip install --no-deps --target`) and put first on the path; `field` is the version the explainer "
           "zygote's forked processes imported."
           + (f" This series also installs {', '.join(with_pins)} beside each release (instead of the project's "
              "pin), so its scores compare with each other, not with the series on the project's pins."
              if with_pins else ""), "",
           "| release | status | reason | field | install s | probe s | run s | total s | cells | conflicts | "
           "also installed | changelog |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| " + " | ".join(md_cell(str(r.get(c, "")), 160) for c in (
            "release", "status", "reason", "field_version", "install_s", "probe_s", "run_s", "total_s", "cells",
            "conflicts", "extra_installs", "changelog")) + " |")
    out += ["", "## Changes by release", ""]
    if not pairs:
        out.append("Fewer than two releases ran: nothing to compare.")
    for before, after, skipped in pairs:
        mine = [c for c in changes if c["before_release"] == before and c["after_release"] == after]
        gap = f" (did not run in between: {', '.join(skipped)})" if skipped else ""
        out += [f"### {before} → {after}{gap}", ""]
        if not mine:
            out += ["No cell changed status or score.", ""]
            continue
        moves = Counter((c["status_before"] or "(absent)") + " → " + (c["status_after"] or "(absent)")
                        for c in mine)
        by_exp = Counter(c["explainer"] for c in mine)
        out.append(f"{len(mine)} cells changed, attributed to {after}; by status: "
                   + ", ".join(f"{k}: {v}" for k, v in sorted(moves.items())) + "; by explainer: "
                   + ", ".join(f"{k} {v}" for k, v in sorted(by_exp.items())) + ".")
        out += ["", "| explainer | check | case | seed | before | after | Δ | message before | message after |",
                "|---|---|---|---|---|---|---|---|---|"]
        for c in sorted(mine, key=_size_key)[:MAX_LISTED]:
            out.append("| " + " | ".join(md_cell(str(v), 120) for v in (
                c["explainer"], c["check"], c["case"], c["seed"], f"{c['status_before']} {c['score_before']}",
                f"{c['status_after']} {c['score_after']}", c["delta"] or c["size"], c["message_before"],
                c["message_after"])) + " |")
        if len(mine) > MAX_LISTED:
            out.append(f"\n… and {len(mine) - MAX_LISTED} more in changes.csv.")
        out.append("")
    return "\n".join(out) + "\n"
