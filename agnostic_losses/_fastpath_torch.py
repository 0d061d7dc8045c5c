"""``array_api_compat.torch`` with its hot wrappers bypassed where they are no-ops.

A real module (not one built at run time) so that its first import may happen inside a
``torch.compile`` trace: dynamo executes an ``import`` statement, but cannot trace the creation
of a module object (that was a graph break on the first compiled call of a process). Every name
of the compat namespace is re-exported; the overrides come from
:func:`agnostic_losses._fastpath.torch_overrides` (see there for the measured reason).
"""

import array_api_compat.torch as _compat

from ._fastpath import torch_overrides as _overrides

_SKIP = ("__name__", "__doc__", "__spec__", "__loader__", "__package__", "__file__", "__cached__")
globals().update({k: v for k, v in vars(_compat).items() if k not in _SKIP})
globals().update(_overrides())
