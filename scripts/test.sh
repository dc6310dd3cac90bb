#!/usr/bin/env bash
# The test command: installs everything a fresh machine needs (see scripts/setup_env.sh), checks that
# the bundles' committed configs are current, runs the linter and the formatter check, then the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/networks -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# the bundles' committed configs/ must be what bundles/common and their source/ build (else: it names the stale
# files and the command that rebuilds them)
python -m monai_jattn.bundles build --check
# the linter and formatter (ruff, configured in pyproject.toml): `ruff format . && ruff check --fix .` mends most
python -m ruff check .
python -m ruff format --check .
exec python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
