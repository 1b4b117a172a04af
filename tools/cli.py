"""Operator commands. Locally they act on `make run`'s DynamoDB Local; with AWS credentials and
the stage's table names in the environment (STAGE=prod …) they act on the deployed tables.

  python -m tools.cli admin EMAIL [--revoke]     make (or unmake) an admin
  python -m tools.cli import-quotes FILE.jsonl   add lines to the chatbot's corpus
  python -m tools.cli init                       create missing tables, load the demo corpus
  python -m tools.cli rotate-jwt-secret [--drop-previous]
                                                 a new token-signing secret; the old one still
                                                 verifies until the next rotation (sessions go on),
                                                 or with --drop-previous no longer (everyone logs in
                                                 again: after a leak). Locally .data/jwt-secret*;
                                                 with JWT_SECRET_SECRET_ID, that Secrets Manager secret
"""
import argparse
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='cli')
    sub = parser.add_subparsers(dest='command', required=True)
    admin = sub.add_parser('admin')
    admin.add_argument('email')
    admin.add_argument('--revoke', action='store_true')
    imp = sub.add_parser('import-quotes')
    imp.add_argument('file')
    sub.add_parser('init')
    rotate = sub.add_parser('rotate-jwt-secret')
    rotate.add_argument('--drop-previous', action='store_true',
                        help='tokens signed before stop working too (a leaked secret): everyone logs in again')
    args = parser.parse_args(argv)
    if args.command == 'rotate-jwt-secret':
        return rotate_jwt_secret(args.drop_previous)

    if os.environ.get('STAGE', 'local') == 'local':
        from tools import localenv
        localenv.apply()
    from chalicelib import storage
    from chalicelib.accounts import auth
    from chalicelib.chat import corpus
    from chalicelib.core.errors import AppError

    try:
        if args.command == 'admin':
            user = auth.set_admin(args.email, not args.revoke)
            print(f"{user['email']} is_admin={user['is_admin']}")
        elif args.command == 'import-quotes':
            with open(args.file, encoding='utf-8') as f:
                count = corpus.import_text(f.read())
            print(f'imported {count} lines from {args.file}')
        else:
            created = storage.store().tables.create()
            print(f"tables created: {', '.join(created) or 'none (all present)'}")
            print(f'corpus: {corpus.load_shipped()} lines')
    except (AppError, corpus.CorpusError, storage.ConditionFailed) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    except Exception as exc:
        from botocore.exceptions import EndpointConnectionError
        if not isinstance(exc, EndpointConnectionError):
            raise
        print('error: DynamoDB does not answer at {}. Locally, start it with `make run` first.'.format(exc.kwargs.get(
            'endpoint_url')), file=sys.stderr)
        return 2
    return 0


SECRET_LENGTH = 64  # what deploy/resources.json generates: letters and digits


def rotate_jwt_secret(drop_previous: bool) -> int:
    """Deployed (JWT_SECRET_SECRET_ID set, as deploy/prod_env.py exports it): a new AWSCURRENT
    version of the secret, the old one becoming AWSPREVIOUS (put-secret-value moves the labels);
    with --drop-previous twice, so the old value holds no label and verifies nothing. Locally:
    the files in .data/. Either way the API uses the new secret once it (re)starts; see
    deploy/README.md, "Rotating the JWT secret"."""
    from chalicelib.core.keys import key_id
    secret_id = os.environ.get('JWT_SECRET_SECRET_ID')
    if os.environ.get('STAGE', 'local') != 'local' or secret_id:
        if not secret_id:
            print('error: JWT_SECRET_SECRET_ID is not set (eval "$(python deploy/prod_env.py)")', file=sys.stderr)
            return 2
        import boto3
        sm = boto3.client('secretsmanager')
        for _ in range(2 if drop_previous else 1):
            new = sm.get_random_password(PasswordLength=SECRET_LENGTH, ExcludePunctuation=True)['RandomPassword']
            sm.put_secret_value(SecretId=secret_id, SecretString=new)
        print(f'{secret_id}: AWSCURRENT is a new version (key id {key_id(new)}); '
              + ('the old value no longer verifies.' if drop_previous else
                 'the old one is AWSPREVIOUS and still verifies.'))
        print('Next: fresh containers for JwtAuth, then APIHandler (deploy/README.md, "Rotating the JWT secret").')
        return 0
    if os.environ.get('JWT_SECRET'):
        print('error: JWT_SECRET is set in the environment, so the files in .data/ are not used: rotate by '
              'setting JWT_SECRET_PREVIOUS to its value and JWT_SECRET to a new one', file=sys.stderr)
        return 2
    from tools import localenv
    new, previous = localenv.rotate_jwt_secret(drop_previous)
    print(f'signing key is now {key_id(new)}; '
          + (f'{key_id(previous)} still verifies until the next rotation.' if previous else
             'no older key verifies: everyone logs in again.'))
    print('Restart `make run` for the API to use it.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
