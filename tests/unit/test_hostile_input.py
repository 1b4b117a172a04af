"""Hostile input, the parts checked without a server: the JSON encoder keeps valid text exactly, and
links never come from client headers (the HTTP side: tests/test_hostile_input.py)."""
import json

import pytest


def test_the_encoder_keeps_valid_text_exactly():
    from chalice import Response

    from chalicelib.core import web
    body = {'t': '스토브리그 😀 \u2028 "quoted" \\ back'}
    out = web.finish(Response(body=body), None)
    assert json.loads(out.body) == body


# -- links never come from client headers -----------------------------------------------------
FORGED = {'Host': 'evil.example', 'X-Forwarded-Proto': 'javascript', 'X-Forwarded-Host': 'evil.example'}


def test_a_public_base_url_that_is_not_http_is_refused(configure):
    with pytest.raises(RuntimeError):
        configure(PUBLIC_BASE_URL='javascript://evil.example/')


class FakeRequest:
    def __init__(self, context, headers=None):
        self.context, self.headers = context, headers or {}


@pytest.mark.parametrize('context, base', [
    ({'domainName': 'abc123.execute-api.ap-northeast-2.amazonaws.com', 'stage': 'api'},
     'https://abc123.execute-api.ap-northeast-2.amazonaws.com/api'),
    ({'domainName': 'api.stove.example', 'stage': 'api'}, 'https://api.stove.example'),  # custom domain
    ({'domainName': 'evil.example/x?', 'stage': 'api'}, ''),
    ({}, ''),
])
def test_links_as_api_gateway_names_the_domain(configure, context, base):
    from chalicelib.core import web
    configure(STAGE='prod')
    assert web.base_url(FakeRequest(context, FORGED)) == base
