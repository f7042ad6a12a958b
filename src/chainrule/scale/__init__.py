"""Training and prediction past one machine's memory, on dask arrays and DataFrames.

=====================  ==================================================================
:class:`Blocks`        the row blocks ``(X_k, Y_k, s_k)`` of dask input; ``split`` holds out
                       whole blocks for early stopping
:func:`minibatches`    one epoch of numpy minibatches streamed from the blocks (seeded block
                       order, rows shuffled in a block, next block prefetched)
:func:`iter_blocks`    the numpy blocks in order, prefetched (scoring held-out blocks)
:class:`BlockObjective`  ``theta -> (C, dC/dtheta)`` summed over blocks on the workers, for
                       scipy's L-BFGS
:func:`predict_blocks`  a predict function mapped lazily over a dask array's blocks
=====================  ==================================================================

Needs ``pip install chainrule[dask]``.
"""

from chainrule.scale.blocks import Blocks, as_dask_array
from chainrule.scale.objective import BlockObjective
from chainrule.scale.predict import predict_blocks
from chainrule.scale.stream import Batch, default_client, iter_blocks, minibatches

__all__ = [
    "Batch",
    "BlockObjective",
    "Blocks",
    "as_dask_array",
    "default_client",
    "iter_blocks",
    "minibatches",
    "predict_blocks",
]
