"""What an operator sees, the parts checked without a server: CloudWatch's embedded metric
format and the readable line a terminal gets (the request's log line: tests/test_observe.py)."""
import re
import sys
import time

from chalicelib.core import observe

# Units CloudWatch accepts in EMF (the MetricDatum units).
EMF_UNITS = {'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes',
             'Terabytes', 'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count',
             'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second',
             'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second',
             'Count/Second', 'None'}


def check_emf(line):
    """The CloudWatch embedded metric format, as specified: a root `_aws` with a millisecond
    Timestamp and CloudWatchMetrics directives; every dimension a string at the root, every metric
    a number at the root. Returns {metric: (value, unit, dimension sets)}."""
    aws = line['_aws']
    assert isinstance(aws['Timestamp'], int) and abs(aws['Timestamp'] - time.time() * 1000) < 600_000
    directives = aws['CloudWatchMetrics']
    assert isinstance(directives, list) and directives
    found = {}
    for d in directives:
        assert set(d) == {'Namespace', 'Dimensions', 'Metrics'}, d
        assert d['Namespace'] == observe.NAMESPACE
        assert isinstance(d['Dimensions'], list) and d['Dimensions']
        for dim_set in d['Dimensions']:
            assert isinstance(dim_set, list) and 1 <= len(dim_set) <= 30
            for key in dim_set:
                assert isinstance(line[key], str) and line[key], key
        assert 1 <= len(d['Metrics']) <= 100
        for m in d['Metrics']:
            assert set(m) <= {'Name', 'Unit', 'StorageResolution'} and m['Unit'] in EMF_UNITS, m
            value = line[m['Name']]
            assert isinstance(value, (int, float)) and not isinstance(value, bool), m
            assert m['Name'] not in found, f"a metric appears in two directives: {m['Name']}"
            unit, dimension = observe.METRICS[m['Name']]  # what alarms and the dashboard rely on
            assert m['Unit'] == unit and d['Dimensions'] == ([['Service'], ['Service', dimension]] if dimension
                                                             else [['Service']]), m
            found[m['Name']] = (value, m['Unit'], d['Dimensions'])
    assert line['Service'] == observe.SERVICE
    return found


# -- metrics --------------------------------------------------------------------------------------


def test_emf_sums_repeated_metrics_and_groups_them_by_dimension():
    out = observe.emf([('ModelCalls', 1, 'Count', None), ('ModelCalls', 1, 'Count', None),
                       ('ModelLatency', 2.5, 'Milliseconds', None), ('Latency', 3.25, 'Milliseconds', 'Route')],
                      {'Route': 'GET /health'})
    assert out['ModelCalls'] == 2 and out['ModelLatency'] == 2.5 and out['Route'] == 'GET /health'
    directives = {tuple(map(tuple, d['Dimensions'])): [m['Name'] for m in d['Metrics']]
                  for d in out['_aws']['CloudWatchMetrics']}
    assert directives == {(('Service',),): ['ModelCalls', 'ModelLatency'],
                          (('Service',), ('Service', 'Route')): ['Latency']}
    check_emf(out)


# -- locally: `make run` prints the same lines ---------------------------------------------------


def test_a_terminal_gets_a_readable_line(monkeypatch):
    class Tty:
        def isatty(self):
            return True
    monkeypatch.delenv('LOG_FORMAT', raising=False)
    monkeypatch.delenv('AWS_LAMBDA_FUNCTION_NAME', raising=False)
    monkeypatch.setattr(sys, 'stdout', Tty())
    assert observe.log_format() == 'pretty'
    monkeypatch.setenv('AWS_LAMBDA_FUNCTION_NAME', 'stove-league-prod')
    assert observe.log_format() == 'json'
    monkeypatch.setenv('LOG_FORMAT', 'pretty')
    assert observe.log_format() == 'pretty'
    text = observe.pretty({'method': 'POST', 'route': '/chat/api', 'status': 200, 'latency_ms': 41.6,
                           'request_id': 'abc', 'user_id': 'u1', 'answerer': 'openai', 'model_tokens_in': 900,
                           'model_tokens_out': 40, 'model_latency_ms': 30.2})
    assert re.fullmatch(r'\d\d:\d\d:\d\d POST /chat/api → 200 42 ms user=u1 answerer=openai tokens=900/40 '
                        r'model=30 ms \[abc\]', text), text
