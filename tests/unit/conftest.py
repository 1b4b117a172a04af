"""tests/unit/: what needs no Java, no DynamoDB Local and no server (retrieval and ranking, input
checks, the corpus and example data, the OpenAPI document, the shape of the code, …); `make test-fast`
runs only these. The fixtures that start any of those are refused here, so the split holds: a test
that needs one belongs in tests/, beside its kind."""
import pytest

NEEDS_A_SERVER = ('dynamodb', 'store', 'server', 'api', 'demo', 'fake_openai', 'frontend')


def _refused(name):
    @pytest.fixture(name=name)
    def fixture():
        pytest.fail(f'tests/unit runs without Java, DynamoDB Local or a server, so the fixture `{name}` is not '
                    'available here: move the test to tests/ (see README, Tests)', pytrace=False)
    return fixture


for _name in NEEDS_A_SERVER:
    globals()['refuse_' + _name] = _refused(_name)


@pytest.fixture(autouse=True, scope='session')
def _unit_env(test_env):
    """The tests' settings (tests/conftest.py), without the DynamoDB Local that `dynamodb` would add."""
