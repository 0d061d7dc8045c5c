"""torch.nn.functional divergence losses."""

__all__: list[str] = []
