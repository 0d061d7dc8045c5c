"""Internal support for ``agnostic_losses.testing``, the test suite, ``check`` and benchmarks."""
