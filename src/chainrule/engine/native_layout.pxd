# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""The compiled engine's shared declarations: the dtypes, the codes of the built-in pieces and
a network's ``Spec``, as every kernel (``native_*.pxd``) and the entry points (``native.pyx``)
read them."""

ctypedef fused floating:
    float
    double

ctypedef fused data_t:  # the input X: float32 data trains a float64 network without a copy
    float
    double

cdef enum:  # the activations (native.ACTIVATIONS names them)
    IDENTITY, RELU, TANH, SIGMOID, LEAKY_RELU, ELU, SOFTPLUS, EXPONENTIAL, SOFTMAX

cdef enum:  # the costs (native.COSTS)
    SQUARED_ERROR, CATEGORICAL_CROSS_ENTROPY, BINARY_CROSS_ENTROPY, ABSOLUTE_ERROR, HUBER, POISSON

cdef enum:  # the update rules (native.OPTIMIZERS)
    GRADIENT_DESCENT, MOMENTUM, NESTEROV, ADAM

cdef enum:  # how an epoch ended
    DONE, DIVERGED

cdef struct Spec:  # a network as the kernels read it (native.Layout builds it)
    int L
    const Py_ssize_t* sizes  # N^0, ..., N^L
    const Py_ssize_t* poff  # W^m starts at poff[m - 1] in theta, b^m after it
    const Py_ssize_t* uoff  # layer m's units start at n * uoff[m - 1] in each block of work
    const int* acts  # sigma^1, ..., sigma^L
    const double* beta  # each sigmoid's slope
    int cost
    double huber  # the Huber cost's delta
    bint canonical  # sigma^L is the cost's matching activation: dC/dz^L = beta (a^L - y)
    bint from_logits  # the cost computed from z^L (a cross-entropy with its matching sigma^L)
    double alpha
    double l1_ratio  # the L1 share of the penalty
    const double* drop  # dropout's rate p^m of each layer (0 for none, and for the output)

