"""The compiled engine (src/chainrule/engine/native.pyx and the native_*.pxd kernels it cimports),
built when the package installs."""

import platform
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# no fused multiply-adds: each update rounds as the NumPy lines of chainrule.optimizers do;
# sqrt without errno, so that the loops around it vectorise (the results are the same)
FLAGS = (
    ["/fp:precise"] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-math-errno"]
)
#: the second build's instructions: x86-64's AVX2 and FMA (the FMA unit unused for the
#: arithmetic, -ffp-contract=off), where GCC or Clang builds for x86-64
AVX2 = ["-mavx2", "-mfma"]
X86_64 = sys.platform != "win32" and platform.machine().lower() in ("x86_64", "amd64")


def engine(name: str, flags: list[str]) -> Extension:
    return Extension(
        f"chainrule.engine.{name}", [f"src/chainrule/engine/{name}.pyx"], extra_compile_args=flags
    )


setup(
    ext_modules=cythonize(
        [engine("native", FLAGS)] + ([engine("native_avx2", FLAGS + AVX2)] if X86_64 else []),
        compiler_directives={"language_level": 3},
    )
)
