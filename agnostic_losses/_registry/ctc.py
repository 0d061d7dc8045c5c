"""ctc losses (_registry): filled in by the family's issue."""

__all__: list[str] = []
CASES: list = []
