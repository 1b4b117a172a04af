"""Print `export` lines that point tools/cli.py at the deployed prod tables and secrets.

    eval "$(.venv/bin/python deploy/prod_env.py)"
    .venv/bin/python -m tools.cli admin you@example.com

The values are .chalice/config.json's prod stage, the same the Lambda functions get (CORS_ORIGINS
is left out: the template sets it from the CloudFront domain, and the CLI never needs it). The
CLI then runs with your own AWS credentials and region (AWS_PROFILE / AWS_DEFAULT_REGION).
"""
import json
import os
import shlex
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def prod_env() -> dict:
    with open(os.path.join(ROOT, '.chalice', 'config.json'), encoding='utf-8') as f:
        env = dict(json.load(f)['stages']['prod']['environment_variables'])
    env.pop('CORS_ORIGINS', None)
    return env


def main() -> int:
    for key, value in prod_env().items():
        print(f'export {key}={shlex.quote(value)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
