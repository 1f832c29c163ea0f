"""Puts the runtime package on sys.path (the tests run from a checkout, not an install).

Tests pin torch to one OpenMP thread unless the caller chose: the models are tiny, and
on a shared 2-core machine two spinning OpenMP threads made torch 2.x (MKL) runs up
to 30x slower (dpo resume test: 44 s with 2 threads, 1.5 s with 1).
"""

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

RUNTIME_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if RUNTIME_ROOT not in sys.path:
    sys.path.insert(0, RUNTIME_ROOT)
