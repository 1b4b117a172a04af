"""Operator commands. Locally they act on `make run`'s DynamoDB Local; with AWS credentials and
the stage's table names in the environment (STAGE=prod …) they act on the deployed tables.

  python -m tools.cli admin EMAIL [--revoke]     make (or unmake) an admin
  python -m tools.cli import-quotes FILE.jsonl   add lines to the chatbot's corpus
  python -m tools.cli init                       create missing tables, load the demo corpus
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
    args = parser.parse_args(argv)

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
            created = storage.store().create_tables()
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


if __name__ == '__main__':
    sys.exit(main())
