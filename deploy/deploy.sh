#!/usr/bin/env bash
# Deploy the Stove League chatbot to your AWS account: the API stack, then the frontend.
# `make deploy` runs `make package` first and then this; deploy/README.md explains each step.
#
#   deploy/deploy.sh [--dry-run] [--package-dir DIR] [--frontend-out DIR] [--no-seed]
#
#   --dry-run        do every local step (check the package, build the frontend into
#                    --frontend-out with a placeholder API URL) and print each aws command
#                    instead of running it. Needs no aws CLI, account or network.
#   --package-dir    where `make package` put sam.json + deployment.zip (default build/package)
#   --frontend-out   where the frontend is assembled with its config.js (default build/frontend)
#   --no-seed        skip loading the demo quote corpus into the tables
#
# Environment (all optional):
#   STACK_NAME           CloudFormation stack name (default stove-league-prod)
#   AWS_REGION           region (else AWS_DEFAULT_REGION, else `aws configure get region`)
#   ARTIFACTS_BUCKET     S3 bucket for the Lambda zip and the template
#                        (default stove-league-artifacts-<account>-<region>, created if missing)
#   PARAMETER_OVERRIDES  extra stack parameters, e.g. "ApiRateLimit=50 LogRetentionDays=90"
#   SITE_WAF             0: no firewall (AWS WAF) in front of the site (default 1: the stack
#                        deploy/site-waf.json in us-east-1, named $STACK_NAME-site-waf)
#   SITE_WAF_PARAMETERS  its parameters, e.g. "SiteRateLimit=5000"
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DRY_RUN=0
PACKAGE_DIR=build/package
FRONTEND_OUT=build/frontend
SEED=1
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --package-dir) PACKAGE_DIR=$2; shift ;;
    --frontend-out) FRONTEND_OUT=$2; shift ;;
    --no-seed) SEED=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

STACK_NAME=${STACK_NAME:-stove-league-prod}
PY=${PY:-.venv/bin/python}
TEMPLATE="$PACKAGE_DIR/sam.json"
PACKAGED="$PACKAGE_DIR/packaged.json"

step() { printf '\n== %s\n' "$*"; }
die() { echo "error: $*" >&2; exit 1; }

# Every AWS call goes through here: a dry run prints it instead.
aws_() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ aws'; printf ' %q' "$@"; printf '\n'
  else
    aws "$@"
  fi
}

# An AWS call whose output the script needs: a dry run prints it and answers PLACEHOLDER.
aws_out() {
  local placeholder=$1; shift
  if [ "$DRY_RUN" = 1 ]; then
    printf '+ aws' >&2; printf ' %q' "$@" >&2; printf '\n' >&2
    printf '%s\n' "$placeholder"
  else
    aws "$@"
  fi
}

# -- 1. tools and inputs ---------------------------------------------------------------------
step "checking tools and the package"
if ! command -v aws >/dev/null 2>&1; then
  msg="the AWS CLI ('aws') is not installed. It is not a dependency of this project (make run/test never need it), but a deploy does: install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html) and give it credentials (aws configure, or AWS_PROFILE)."
  [ "$DRY_RUN" = 1 ] || die "$msg"
  echo "note (dry run continues): $msg"
fi
[ -x "$PY" ] || die "$PY not found: run 'make deps' (or make package) first"
[ -f "$TEMPLATE" ] && [ -f "$PACKAGE_DIR/deployment.zip" ] \
  || die "$TEMPLATE or its deployment.zip is missing: run 'make package' first"
[ -f frontend/index.html ] || die "frontend/index.html is missing: nothing to serve"
[ -f frontend/vendor/swagger-ui/swagger-ui-bundle.js ] \
  || die "frontend/vendor/swagger-ui is missing (the API docs page's viewer): run 'make deps'"

REGION=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
if [ -z "$REGION" ] && [ "$DRY_RUN" = 0 ]; then
  REGION=$(aws configure get region || true)
fi
if [ -z "$REGION" ]; then
  [ "$DRY_RUN" = 1 ] || die "no AWS region: set AWS_REGION (e.g. AWS_REGION=ap-northeast-2 make deploy) or run 'aws configure'"
  REGION=us-east-1
fi
echo "stack $STACK_NAME in $REGION; package $PACKAGE_DIR"

# -- 2. who am I, and where the artifacts go ---------------------------------------------------
step "checking credentials"
ACCOUNT=$(aws_out 123456789012 sts get-caller-identity --query Account --output text --region "$REGION") \
  || die "no usable AWS credentials (aws sts get-caller-identity failed)"
ARTIFACTS_BUCKET=${ARTIFACTS_BUCKET:-stove-league-artifacts-$ACCOUNT-$REGION}

step "artifacts bucket s3://$ARTIFACTS_BUCKET"
if [ "$DRY_RUN" = 1 ] || ! aws s3api head-bucket --bucket "$ARTIFACTS_BUCKET" --region "$REGION" >/dev/null 2>&1; then
  aws_ s3 mb "s3://$ARTIFACTS_BUCKET" --region "$REGION"
  aws_ s3api put-public-access-block --bucket "$ARTIFACTS_BUCKET" --region "$REGION" \
    --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
fi

# -- 3. the site's firewall ----------------------------------------------------------------------
# A CloudFront distribution's WebACL (scope CLOUDFRONT) can only live in us-east-1, whatever the
# region of the app: a stack of its own there, deployed first; its ARN goes to the app's stack.
SITE_WAF_STACK=$STACK_NAME-site-waf
SITE_WEB_ACL_ARN=
if [ "${SITE_WAF:-1}" != 0 ]; then
  step "the site's firewall: stack $SITE_WAF_STACK in us-east-1 (deploy/site-waf.json)"
  # shellcheck disable=SC2086  # SITE_WAF_PARAMETERS is a list of Key=Value words
  aws_ cloudformation deploy --template-file deploy/site-waf.json --stack-name "$SITE_WAF_STACK" \
    --no-fail-on-empty-changeset ${SITE_WAF_PARAMETERS:+--parameter-overrides $SITE_WAF_PARAMETERS} --region us-east-1
  SITE_WEB_ACL_ARN=$(aws_out "arn:aws:wafv2:us-east-1:$ACCOUNT:global/webacl/$SITE_WAF_STACK/dry-run" \
    cloudformation describe-stacks --stack-name "$SITE_WAF_STACK" --region us-east-1 \
    --query "Stacks[0].Outputs[?OutputKey=='SiteWebAclArn'].OutputValue" --output text)
  [[ "$SITE_WEB_ACL_ARN" == arn:*:wafv2:us-east-1:* ]] || die "unexpected SiteWebAclArn output: '$SITE_WEB_ACL_ARN'"
fi

# -- 4. the API stack --------------------------------------------------------------------------
step "uploading the Lambda zip (aws cloudformation package)"
aws_ cloudformation package --template-file "$TEMPLATE" --s3-bucket "$ARTIFACTS_BUCKET" \
  --s3-prefix "$STACK_NAME" --output-template-file "$PACKAGED" --use-json --region "$REGION"

step "creating/updating the stack (aws cloudformation deploy)"
# shellcheck disable=SC2086  # PARAMETER_OVERRIDES is a list of Key=Value words
aws_ cloudformation deploy --template-file "$PACKAGED" --stack-name "$STACK_NAME" \
  --s3-bucket "$ARTIFACTS_BUCKET" --s3-prefix "$STACK_NAME" \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
  --parameter-overrides "SiteWebAclArn=$SITE_WEB_ACL_ARN" ${PARAMETER_OVERRIDES:-} --region "$REGION"

output() {  # output NAME PLACEHOLDER: one of the stack's outputs
  aws_out "$2" cloudformation describe-stacks --stack-name "$STACK_NAME" --region "$REGION" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
step "reading the stack's outputs"
API_URL=$(output EndpointURL "https://DRY-RUN.execute-api.$REGION.amazonaws.com/api/")
BUCKET=$(output FrontendBucketName dry-run-frontend-bucket)
DISTRIBUTION=$(output FrontendDistributionId DRYRUNDISTRIBUTION)
FRONTEND_URL=$(output FrontendURL https://dry-run.cloudfront.net)
API_URL=${API_URL%/}
[[ "$API_URL" =~ ^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._-]+)*$ ]] || die "unexpected EndpointURL output: '$API_URL'"
[ -n "$BUCKET" ] && [ "$BUCKET" != None ] || die "the stack has no FrontendBucketName output"
echo "API $API_URL; frontend bucket $BUCKET; distribution $DISTRIBUTION"

# -- 5. data: the demo corpus (idempotent: lines are keyed by content) --------------------------
if [ "$SEED" = 1 ]; then
  step "loading the demo quote corpus into the tables (tools/cli.py init)"
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ (prod env from deploy/prod_env.py) $PY -m tools.cli init"
  else
    ( eval "$("$PY" deploy/prod_env.py)"; export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"
      "$PY" -m tools.cli init )
  fi
fi

# -- 6. the frontend, with the API's URL ---------------------------------------------------------
step "assembling the frontend in $FRONTEND_OUT"
rm -rf "$FRONTEND_OUT"
mkdir -p "$FRONTEND_OUT"
(cd frontend && find . -type f ! -name config.js ! -name config.example.js ! -path '*/.*' ! -path '*/node_modules/*' -print0) |
  while IFS= read -r -d '' f; do
    mkdir -p "$FRONTEND_OUT/$(dirname "$f")"
    cp "frontend/$f" "$FRONTEND_OUT/$f"
  done
printf '%s\n' "// Written by deploy/deploy.sh from stack $STACK_NAME's outputs." \
  "window.STOVE_CONFIG = { apiBaseUrl: '$API_URL' };" > "$FRONTEND_OUT/config.js"
echo "config.js: apiBaseUrl $API_URL ($(find "$FRONTEND_OUT" -type f | wc -l | tr -d ' ') files)"

step "uploading the frontend to s3://$BUCKET"
# Scripts, styles and images may be cached 5 minutes; pages and config.js, whose names never
# change while their content does, are revalidated on every load.
aws_ s3 sync "$FRONTEND_OUT" "s3://$BUCKET/" --delete --exclude '*.html' --exclude config.js \
  --cache-control 'public, max-age=300' --region "$REGION"
aws_ s3 sync "$FRONTEND_OUT" "s3://$BUCKET/" --delete --exclude '*' --include '*.html' --include config.js \
  --cache-control no-cache --region "$REGION"

step "invalidating CloudFront's cache"
aws_ cloudfront create-invalidation --distribution-id "$DISTRIBUTION" --paths '/*' \
  --query Invalidation.Id --output text

step "done"
echo "frontend: $FRONTEND_URL"
echo "API:      $API_URL"
echo "Next (once): put your OpenAI key in secret stove-league/prod/openai-api-key (deploy/README.md),"
echo "and make yourself admin: eval \"\$($PY deploy/prod_env.py)\"; $PY -m tools.cli admin you@example.com"
[ "$DRY_RUN" = 0 ] || echo "(dry run: no AWS call was made)"
