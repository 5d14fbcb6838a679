#!/usr/bin/env bash
# Browser tests: the notebook login panel in JupyterLab, driven in Debian's Chromium by
# Playwright (tests/browser, marker "browser"). Installs Debian's chromium when /usr/bin/chromium
# is missing, then runs those tests. Run it from the repository inside the activated virtual
# environment that has the dev extra (pip install -e ".[dev]"); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi

python - <<'PY'
import importlib.util
import sys

missing = [m for m in ("playwright", "jupyterlab", "ipywidgets") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"missing Python packages {missing}: pip install -e '.[dev]' in the active venv")
PY

echo "== browser tests (JupyterLab + Chromium)"
python -m pytest -m browser tests/browser "$@"
