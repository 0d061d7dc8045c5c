"""torch.nn.functional similarity losses."""

__all__: list[str] = []
