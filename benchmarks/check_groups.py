"""Score checks that measure one property share one weight in their category (issue 23).

A category's score is the mean over **properties** of the mean over that property's checks; a check of no named
property is a property of its own. The only named property today is ``output_order``:

- ``deletion_curve`` (Samek et al. 2017, *Evaluating the visualization of what a deep neural network has learned*),
- ``insertion_curve`` (Petsiuk et al. 2018, *RISE*), and
- ``pgi_pgu`` (Agarwal et al. 2022, *OpenXAI*: prediction gap on the important / unimportant features)

all read the model's output as features are removed or kept *in the attribution's order*: the same property,
measured three ways. On the committed default results (``results/scores.csv``, 226 explainer x case cells where
all three ran) deletion and insertion correlate at r = 0.969 and PGI/PGU at 0.841 / 0.855 with them; counted as
three checks they carried 3/8 of the ground-truth category. Grouped, they carry one share.

The rule is by property, not by correlation alone: ``ground_truth_agreement`` correlates with ``deletion_curve``
at 0.87 on the 37 cells where both ran, and ``magnitude_error`` at 0.87, because a good explainer is good at both;
they measure different things (agreement with a known attribution, magnitude against the exact values), so they
keep their own weight. ``tests/test_ranking_stability.py`` re-measures these correlations on ``results/``.
"""

from __future__ import annotations

from typing import Mapping

__all__ = ["PROPERTY_OF", "property_of"]

#: check name -> the property it measures (a check absent here is its own property).
PROPERTY_OF: Mapping[str, str] = {
    "deletion_curve": "output_order",
    "insertion_curve": "output_order",
    "pgi_pgu": "output_order",
}


def property_of(check: str) -> str:
    """The property ``check`` measures: its named group, else the check's own name."""
    return PROPERTY_OF.get(check, check)
