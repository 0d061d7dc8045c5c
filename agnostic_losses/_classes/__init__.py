"""torch.nn-style loss classes, one module per family, over the functional surface."""
