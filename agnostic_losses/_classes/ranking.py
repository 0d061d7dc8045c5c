"""ranking losses (_classes): filled in by the family's issue."""

__all__: list[str] = []
