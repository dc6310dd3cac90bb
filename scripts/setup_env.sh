#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/demo.sh: make sure a Python environment with monai-jattn
# installed is active.
#   - an already active virtual environment ($VIRTUAL_ENV) is used as it is;
#   - otherwise .venv/ at the repository root is created (or reused). It sees the system's
#     site-packages, so a torch you already installed (e.g. a CUDA build) is kept;
#   - torch is installed only when none is importable: `pip install torch==2.13.0`, which picks a
#     local CPU wheel where the machine provides one (pip's find-links), else PyPI's default build.
# Set MONAI_JATTN_EXTRAS (default "test") to choose the extras installed with the package.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${VIRTUAL_ENV:-}" ]; then
  if [ ! -x "$REPO_ROOT/.venv/bin/python" ]; then
    echo "[setup] creating virtual environment $REPO_ROOT/.venv"
    python3 -m venv --system-site-packages "$REPO_ROOT/.venv"
  fi
  # shellcheck disable=SC1091
  source "$REPO_ROOT/.venv/bin/activate"
fi
PY=python
if ! $PY -c "import torch" >/dev/null 2>&1; then
  echo "[setup] no torch found: installing torch==2.13.0"
  $PY -m pip install -q "torch==2.13.0"
fi
stamp="$VIRTUAL_ENV/.monai_jattn_installed"
if [ ! -f "$stamp" ] || [ "$REPO_ROOT/setup.cfg" -nt "$stamp" ]; then
  echo "[setup] installing monai-jattn[${MONAI_JATTN_EXTRAS:-test}] (editable)"
  $PY -m pip install -q -e "$REPO_ROOT[${MONAI_JATTN_EXTRAS:-test}]"
  touch "$stamp"
fi
$PY -c "import torch, monai, monai_jattn; print(f'[setup] python {__import__(\"sys\").version.split()[0]}, torch {torch.__version__}, monai {monai.__version__}, monai-jattn {monai_jattn.__version__}, cuda available: {torch.cuda.is_available()}')"
