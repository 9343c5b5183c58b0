"""Array type aliases shared by the model and evaluation packages."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

FloatArray: TypeAlias = NDArray[np.float32]
IntArray: TypeAlias = NDArray[np.int32]
IndexArray: TypeAlias = NDArray[np.integer[Any]]
BoolArray: TypeAlias = NDArray[np.bool_]
# scipy ships no type information; the alias documents intent (a CSR matrix or array).
Csr: TypeAlias = Any
