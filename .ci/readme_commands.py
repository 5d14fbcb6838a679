"""Print the shell commands of one marked README block (``<!-- ci:NAME -->`` before a fence).

.ci/run executes the README's own install, test and quickstart commands this
way, so the README cannot drift from what CI proves.
"""

import re
import sys
from pathlib import Path

name = sys.argv[1]
text = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text(encoding="utf-8")
match = re.search(rf"<!-- ci:{re.escape(name)} -->\s*```(?:bash|sh|console)?\n(.*?)```", text, re.S)
if not match:
    sys.exit(f"README.md has no block marked <!-- ci:{name} -->")
print(match.group(1).strip())
