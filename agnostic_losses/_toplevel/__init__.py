"""The optax / braintools surface, one module per loss family."""
