"""``ef.sync`` stays the function after the module ``esiframe.sync`` is imported.

Importing a submodule for the first time sets it as an attribute of its package; a lazy first
import of ``esiframe.sync`` (inside the first ``ef.sync`` call) made the second call fail with
"'module' object is not callable".
"""

from __future__ import annotations

import subprocess
import sys

CODE = """
import types
import esiframe as ef
from esiframe.sync import dataset_runs
assert callable(dataset_runs)
print(isinstance(ef.sync, types.ModuleType), ef.sync.__module__)
"""


def test_ef_sync_is_still_the_function_after_importing_the_module() -> None:
    run = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", "esiframe"]
