"""torch.nn.functional ranking losses: ``margin_ranking_loss`` lives in ``_margin``.

torch has no listwise ranking loss; ``ranking_softmax_loss`` is on the top level (optax).
"""

__all__: list[str] = []
