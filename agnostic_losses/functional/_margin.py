"""torch.nn.functional margin losses."""

__all__: list[str] = []
