"""similarity losses (_toplevel): filled in by the family's issue."""

__all__: list[str] = []
