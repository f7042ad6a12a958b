"""The compiled engine (src/chainrule/engine/native.pyx and the native_*.pxd kernels it cimports),
built when the package installs."""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# no fused multiply-adds: each update rounds as the NumPy lines of chainrule.optimizers do;
# sqrt without errno, so that the loops around it vectorise (the results are the same)
FLAGS = (
    ["/fp:precise"] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-math-errno"]
)

setup(
    ext_modules=cythonize(
        [
            Extension(
                "chainrule.engine.native",
                ["src/chainrule/engine/native.pyx"],
                extra_compile_args=FLAGS,
            )
        ],
        compiler_directives={"language_level": 3},
    )
)
