"""sparsemax losses (_kernels): filled in by the family's issue."""

__all__: list[str] = []
