"""The split holds: a unit test cannot get DynamoDB Local, the store or a server."""
import pytest

from tests.unit.conftest import NEEDS_A_SERVER


@pytest.mark.parametrize('name', NEEDS_A_SERVER)
def test_the_fixtures_that_start_a_server_are_refused_here(request, name):
    with pytest.raises(pytest.fail.Exception, match=f'fixture `{name}` is not available here'):
        request.getfixturevalue(name)
