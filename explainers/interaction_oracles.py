"""The exact interaction oracles (family ``oracle``): the project's own exact indices, by enumeration.

``exact_ksii`` (baseline game), ``exact_ksii_interventional`` (interventional game over the background) and
``exact_fsii`` (baseline game), all of order 2, call ``synthetic_models.interaction_indices`` on the sealed model's
callable: ``2^d`` model rows per instance (and reference row), refused above d = 16 (``max_features``). k-SII
(Bordt & von Luxburg 2023) and FSII (Tsai et al. 2023) are efficient: the values sum to ``f(x) - f(b)``.
"""

from __future__ import annotations

from xaicheck.synthetic_models.interaction_indices import baseline_interactions, interventional_interactions
from xaicheck.synthetic_models.shapley import MAX_EXACT_FEATURES

from .base import Capabilities, register
from .interaction_base import InteractionExplainer
from .torch_utils import predict_fn

__all__ = ["ExactInteractions"]

ORDER = 2


class ExactInteractions(InteractionExplainer):
    """Exact ``index`` of order 2 in the baseline or the interventional game."""

    family = "oracle"

    def __init__(self, name: str, index: str, game: str) -> None:
        self.name = name
        self.index = index
        self.game = game
        self.capabilities = Capabilities(uses_baseline=game == "baseline", uses_background=game == "interventional",
                                         max_features=MAX_EXACT_FEATURES, interaction_order=ORDER)
        self.settings = {"index": index, "order": ORDER, "game": game}
        self.description = f"exact {index} (order {ORDER}) of the {game} game by enumeration"

    def _explain(self, model, X, *, baseline, background, target, seed):  # type: ignore[override]
        f = predict_fn(model, target)
        if self.game == "baseline":
            return baseline_interactions(f, X, baseline, self.index, ORDER)
        return interventional_interactions(f, X, background, self.index, ORDER)


for _args in (("exact_ksii", "k-SII", "baseline"), ("exact_ksii_interventional", "k-SII", "interventional"),
              ("exact_fsii", "FSII", "baseline")):
    register(ExactInteractions(*_args))
