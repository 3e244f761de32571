#!/usr/bin/env bash
# CI regression step: a fresh sweep of the slice in reports/reference/slice.toml into a temporary
# folder, then `fusionbench regress` against the committed reference reports/reference/scores.csv
# (tolerances: reports/reference/tolerances.toml). Exits non-zero when a value got worse, turned
# NaN or went missing. Under CI=true an absent dataset is an error; locally it is skipped.
#
#   bash scripts/ci_regression.sh            # check
#   bash scripts/ci_regression.sh --update   # rewrite the reference on purpose (then commit it)
set -euo pipefail
cd "$(dirname "$0")/.."
FB="${FB:-.venv/bin/fusionbench}"
[ -x "$FB" ] || FB="fusionbench"
REF_DIR="reports/reference"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/fusionbench-regress.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
start=$(date +%s)
"$FB" regress --reference "$REF_DIR/scores.csv" --tolerances "$REF_DIR/tolerances.toml" \
    --sweep "$REF_DIR/slice.toml" --results "$OUT" "$@"
echo "regression step took $(( $(date +%s) - start )) s"
