"""torch.nn.functional has no sparsemax or Fenchel-Young loss; this surface stays empty.

The family lives on the top level (optax names): ``sparsemax_loss``,
``multiclass_sparsemax_loss``, ``make_fenchel_young_loss``.
"""

__all__: list[str] = []
