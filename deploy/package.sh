#!/usr/bin/env bash
# Build the prod CloudFormation/SAM template and the Lambda zip into DIR (default build/package).
# Offline as far as AWS goes (no account or credentials needed); chalice fetches Lambda-platform
# wheels from PyPI the first time. `make package` and tests/test_deploy.py both run this.
#
#   deploy/package.sh [DIR]
#
# Output: DIR/sam.json (Chalice's template deep-merged with deploy/resources.json, plus the
# dashboard of deploy/dashboard.json), DIR/deployment.zip (app.py, chalicelib/ and
# requirements.txt's packages) and DIR/embedding-layer.zip (requirements-layer.txt's packages
# for Lambda's platform: the embedding model, in a layer the API function uses).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/package}
CHALICE=${CHALICE:-.venv/bin/chalice}
PY=${PY:-.venv/bin/python}
[ -x "$CHALICE" ] || { echo "chalice not found at $CHALICE: run 'make deps' (or make test) first" >&2; exit 1; }

# Chalice wants a region even to package; the template itself is region-free (${AWS::Region}).
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}

# Chalice packages for the Python that runs it: that version becomes the Lambda runtime.
RUNTIME=$("$PY" -c 'import sys; print("python%d.%d" % sys.version_info[:2])')
if [ "$RUNTIME" = python3.11 ]; then
  echo "warning: packaging for python3.11, a Lambda runtime AWS deprecates on 2027-06-30;" \
       "install python3.13 (or 3.12), then 'make clean package'" >&2
fi

rm -rf "$OUT"
"$CHALICE" package --merge-template deploy/resources.json --stage prod "$OUT"
"$PY" deploy/dashboard.py "$OUT/sam.json"
"$PY" deploy/package_report.py "$OUT"

deploy/build_layer.sh "$OUT" "$RUNTIME"
"$PY" deploy/package_report.py "$OUT" --layer
