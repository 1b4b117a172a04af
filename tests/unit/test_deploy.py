"""Deployment as code, the parts that need no `chalice package`: the site firewall's template, the
IAM policy against what the code calls, the stage's configuration, the deploy script's refusals
(the packaged template: tests/test_deploy.py)."""
import ast
import glob
import os
import subprocess
import sys
from types import SimpleNamespace

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')


def store_specs(prod_env):
    """Tables.specs() for the prod table names (it reads only cfg; no AWS client needed)."""
    from chalicelib.storage.tables import Tables
    cfg = SimpleNamespace(users_table=prod_env['USERS_TABLE'], chats_table=prod_env['CHATS_TABLE'],
                          quotes_table=prod_env['QUOTES_TABLE'], auth_table=prod_env['AUTH_TABLE'])
    return Tables.specs(SimpleNamespace(cfg=cfg))


# -- Lambda functions: configuration and secrets --------------------------------------------------


def test_ssm_parameters_still_work(monkeypatch):
    from chalicelib.core import settings

    class FakeSsm:
        def get_parameter(self, Name, WithDecryption):
            assert WithDecryption
            return {'Parameter': {'Value': {'/p/key': 'sk-ssm', '/p/none': 'none'}[Name]}}

    import boto3
    monkeypatch.setattr(boto3, 'client', lambda service, **_: {'ssm': FakeSsm()}[service])
    monkeypatch.delenv('OPENAI_API_KEY', raising=False)
    monkeypatch.delenv('OPENAI_API_KEY_SECRET_ID', raising=False)
    monkeypatch.setenv('OPENAI_API_KEY_PARAM', '/p/key')
    assert settings._secret('OPENAI_API_KEY') == 'sk-ssm'
    monkeypatch.setenv('OPENAI_API_KEY_PARAM', '/p/none')
    assert settings._secret('OPENAI_API_KEY') is None


# -- AWS WAF: the API stage's firewall and the site's ---------------------------------------------


def test_the_site_firewall_template_passes_cfn_lint():
    proc = subprocess.run([os.path.join(VENV_BIN, 'cfn-lint'), os.path.join(ROOT, 'deploy', 'site-waf.json')],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- IAM: least privilege -------------------------------------------------------------------------
def statements_by_sid(policy):
    return {s['Sid']: s for s in policy['Statement']}


# X-Ray's write actions support no resource-level permissions: "*" is the only resource they take.


def runtime_dynamodb_actions():
    """IAM actions implied by the DynamoDB calls the storage package makes at runtime (from its source).

    Tables.create/drop are operator tools (tools/cli.py with an operator's credentials),
    so their ListTables/CreateTable/DeleteTable/UpdateTimeToLive are not the Lambda's business.
    """
    import botocore.session
    from botocore import xform_name
    operations = {xform_name(op): op for op in botocore.session.get_session().get_service_model(
        'dynamodb').operation_names}
    implied = {'TransactWriteItems': {'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'},
               'TransactGetItems': {'GetItem'}}
    operator_only = {('Tables', 'create'), ('Tables', 'drop')}
    methods = []
    for path in glob.glob(os.path.join(ROOT, 'chalicelib', 'storage', '*.py')):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        methods += [(c.name, m) for c in tree.body if isinstance(c, ast.ClassDef) for m in c.body]
    actions, uses_index = set(), False
    for cls, method in methods:
        if not isinstance(method, ast.FunctionDef) or (cls, method.name) in operator_only:
            continue
        for node in ast.walk(method):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == 'batch_writer':
                actions.add('BatchWriteItem')
            elif name in operations:
                actions |= implied.get(operations[name], {operations[name]})
        uses_index |= any(isinstance(n, ast.Constant) and n.value == 'IndexName' for n in ast.walk(method))
    return actions, uses_index


def test_policy_grants_exactly_the_dynamodb_actions_storage_uses(policy, prod_env):
    needed, uses_index = runtime_dynamodb_actions()
    assert {'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchGetItem', 'BatchWriteItem',
            'ConditionCheckItem'} <= needed  # the parse found what we know is there
    statements = statements_by_sid(policy)
    tables = statements['ItemsOfTheFourTables']
    granted = {a.split(':')[1] for a in tables['Action']}
    assert granted == needed, f'missing: {sorted(needed - granted)}; unused: {sorted(granted - needed)}'
    assert {a.split(':')[0] for a in tables['Action']} == {'dynamodb'}
    assert {r['Fn::GetAtt'][0] for r in tables['Resource']} == {'UsersTable', 'ChatsTable', 'QuotesTable', 'AuthTable'}
    assert not {'DescribeTable', 'ListTables', 'Scan', 'CreateTable', 'DeleteTable'} & granted

    index = statements['QuotesByOwnerIndex']
    gsis = {(s['TableName'], g['IndexName'])
            for s in store_specs(prod_env) for g in s.get('GlobalSecondaryIndexes', [])}
    assert uses_index and gsis == {(prod_env['QUOTES_TABLE'], 'by_owner')}
    assert index['Action'] == ['dynamodb:Query']
    assert index['Resource'] == [{'Fn::Sub': '${QuotesTable.Arn}/index/by_owner'}]


def test_the_lambda_code_calls_no_other_aws_service(prod_env):
    """The policy covers DynamoDB and Secrets Manager; no other boto3 client may appear at runtime."""
    clients = set()
    lib = os.path.join(ROOT, 'chalicelib')
    for path in glob.glob(os.path.join(lib, '**', '*.py'), recursive=True):
        name = os.path.relpath(path, lib)
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ('client', 'resource') and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == 'boto3'):
                clients.add((name.split(os.sep)[0], node.args[0].value))
    # DynamoDB only from the storage package; the secrets from settings
    assert clients == {('storage', 'dynamodb'), ('core', 'secretsmanager'), ('core', 'ssm')}
    # SSM is the local/alternative path: the prod stage names no parameter, so needs no ssm:GetParameter.
    assert not any(k.endswith('_PARAM') for k in prod_env)


# -- the deploy script ----------------------------------------------------------------------------


def path_without_aws():
    return os.pathsep.join(d for d in os.environ['PATH'].split(os.pathsep)
                           if d and not os.path.exists(os.path.join(d, 'aws')))


def run_deploy(args, path, cwd=ROOT, env=None):
    extra = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update(PATH=path, STACK_NAME='stove-test', AWS_REGION='ap-northeast-2', **extra)
    # stderr into stdout: the dry run prints some aws commands on stderr, and their order matters.
    return subprocess.run([os.path.join(ROOT, 'deploy', 'deploy.sh')] + args, cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)


def test_deploy_refuses_a_missing_package(tmp_path):
    proc = run_deploy(['--dry-run', '--package-dir', str(tmp_path / 'nothing')], path_without_aws())
    assert proc.returncode != 0 and 'make package' in proc.stdout


def test_prod_env_exports_the_stage_configuration(prod_env):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, 'deploy', 'prod_env.py')], capture_output=True,
                          text=True, check=True)
    exported = dict(line[len('export '):].split('=', 1) for line in proc.stdout.splitlines())
    assert exported['USERS_TABLE'] == prod_env['USERS_TABLE'] and exported['STAGE'] == 'prod'
    assert 'CORS_ORIGINS' not in exported
