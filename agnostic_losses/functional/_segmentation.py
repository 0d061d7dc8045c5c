"""torch.nn.functional segmentation losses."""

__all__: list[str] = []
