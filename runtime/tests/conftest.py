"""Puts the runtime package on sys.path (the tests run from a checkout, not an install)."""

import os
import sys

RUNTIME_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if RUNTIME_ROOT not in sys.path:
    sys.path.insert(0, RUNTIME_ROOT)
