"""torch.nn.functional sparsemax losses."""

__all__: list[str] = []
