"""Training and prediction past one machine's memory, on dask arrays and DataFrames.

=====================  ==================================================================
:class:`Blocks`        the row blocks ``(X_k, Y_k, s_k)`` of dask input; ``split`` holds out
                       whole blocks for early stopping
:func:`minibatches`    one epoch of numpy minibatches streamed from the blocks (seeded block
                       order, rows shuffled in a block, next block prefetched)
:func:`iter_blocks`    the numpy blocks in order, prefetched
:class:`BlockSource`   the training loop's minibatch source over blocks
:func:`visit_blocks`   an epoch's minibatch steps on the workers holding the blocks (the
                       model visits them; :func:`stream_blocks`: the same steps here)
:func:`evaluate`       the cost and score of held-out blocks, computed on the workers
:class:`BlockObjective`  ``theta -> (C, dC/dtheta)`` summed over blocks on the workers, for
                       scipy's L-BFGS
:func:`predict_blocks`  a predict function mapped lazily over a dask array's blocks
:func:`finite`         a dask array cast and checked for NaN/inf block by block
:func:`one_hot`        dask labels as the network's targets, encoded on the workers
=====================  ==================================================================

Needs ``pip install chainrule[dask]``. The estimators use these when ``fit``, ``partial_fit``,
``predict*`` or ``score`` get dask input.
"""

from chainrule.scale.blocks import Blocks, as_dask_array, finite
from chainrule.scale.objective import BlockObjective
from chainrule.scale.predict import predict_blocks
from chainrule.scale.source import BlockSource, evaluate
from chainrule.scale.stream import Batch, default_client, iter_blocks, minibatches
from chainrule.scale.targets import label_classes, lazy_accuracy, lazy_r2, one_hot
from chainrule.scale.visit import stream_blocks, visit_blocks

__all__ = [
    "Batch",
    "BlockObjective",
    "BlockSource",
    "Blocks",
    "as_dask_array",
    "default_client",
    "evaluate",
    "finite",
    "iter_blocks",
    "label_classes",
    "lazy_accuracy",
    "lazy_r2",
    "minibatches",
    "one_hot",
    "predict_blocks",
    "stream_blocks",
    "visit_blocks",
]
