"""torch has no sparsemax loss class; this surface stays empty (see the top level)."""

__all__: list[str] = []
