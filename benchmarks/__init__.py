"""Benchmarks of agnostic_losses against the native peers (``python -m benchmarks --help``).

Every loss with a runnable peer in the registry (``agnostic_losses._registry.CASES``) is timed
against that peer in the same process on the same inputs: torch eager (CPU), ``torch.compile``
for a few key losses, JAX under ``jax.jit``, NumPy (against the registry's plain NumPy
reference) and Dask (chunked, against NumPy on the same data). Ratios are ours / peer: below 1
means we are faster.
"""
