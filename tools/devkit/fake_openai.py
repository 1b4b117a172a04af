"""A small OpenAI-compatible server on loopback: real HTTP for the real `openai` client.

Each test sets `behaviour`, a function from the request's JSON to (status, body, delay) or
(status, body, delay, fault) where fault may hold `headers` (e.g. {'Retry-After': '60'}) and
`dribble` (send the body one byte every that many seconds: a server that never quite stalls).
Requests are recorded for assertions.
"""
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(content: str) -> dict:
    return {'id': 'chatcmpl-test', 'object': 'chat.completion', 'created': int(time.time()), 'model': 'fake-model',
            'choices': [{'index': 0, 'finish_reason': 'stop', 'logprobs': None,
                         'message': {'role': 'assistant', 'content': content, 'refusal': None}}],
            'usage': {'prompt_tokens': 10, 'completion_tokens': 10, 'total_tokens': 20}}


def candidates_of(request: dict) -> list:
    """The candidate list the app put in its user message."""
    text = request['messages'][-1]['content']
    return json.loads(re.search(r'후보:\n(.*)\n\n사용자:', text, re.S).group(1))


def choose(pick, description='이 대사가 지금 상황에 잘 맞습니다.'):
    """Behaviour: answer with the candidate `pick(candidates)` chooses, echoing its quote."""
    def behaviour(request):
        c = pick(candidates_of(request))
        return 200, completion(json.dumps({'candidate_id': c['candidate_id'], 'quote': c['quote'],
                                           'description': description}, ensure_ascii=False)), 0
    return behaviour


class FakeOpenAI:
    def __init__(self):
        self.requests = []
        self.behaviour = choose(lambda cands: cands[0])
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get('content-length', 0))))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append({'path': self.path, 'headers': headers, 'json': body})
                status, payload, delay, *fault = fake.behaviour(body)
                fault = fault[0] if fault else {}
                if delay:
                    time.sleep(delay)
                raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
                headers = dict({'Retry-After': '7'} if status == 429 else {}, **fault.get('headers', {}))
                try:
                    self.send_response(status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(raw)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if fault.get('dribble'):
                        for i in range(len(raw)):
                            self.wfile.write(raw[i:i + 1])
                            self.wfile.flush()
                            time.sleep(fault['dribble'])
                    else:
                        self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}/v1'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
