"""``python -m agnostic_losses._registry``: print the README's loss table."""

from . import loss_table

print(loss_table(), end="")
