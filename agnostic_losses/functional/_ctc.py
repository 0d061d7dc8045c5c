"""torch.nn.functional ctc losses."""

__all__: list[str] = []
