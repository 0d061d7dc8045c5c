"""torch.nn.functional regression losses."""

__all__: list[str] = []
