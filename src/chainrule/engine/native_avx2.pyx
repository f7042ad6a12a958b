# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
# The compiled engine once more, for x86-64 CPUs with AVX2 and FMA: the source of native.pyx,
# included whole, compiled with 4-wide vectors (setup.py's AVX2 flags). chainrule.engine.compiled
# imports it where the CPU has them (native.cpu_has_avx2), else native. Without fused
# multiply-adds (-ffp-contract=off), as native: both builds compute the same bits.

include "native.pyx"
