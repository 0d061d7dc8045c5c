"""torch.nn.functional ranking losses."""

__all__: list[str] = []
