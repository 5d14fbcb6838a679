"""``ef.sync`` stays the function after its module is imported, and Parquet stays lazy.

Importing a submodule for the first time sets it as an attribute of its package; when the
module was ``esiframe.sync``, its lazy first import (inside the first ``ef.sync`` call) made
the second call fail with "'module' object is not callable". The module is ``datasets``.
"""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import types
import esiframe as ef
assert "pyarrow.dataset" not in sys.modules, "Parquet is imported on first use"
from esiframe.datasets import dataset_runs
assert callable(dataset_runs)
print(isinstance(ef.sync, types.ModuleType), ef.sync.__module__)
"""


def test_ef_sync_is_still_the_function_after_importing_the_module() -> None:
    run = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", "esiframe"]
