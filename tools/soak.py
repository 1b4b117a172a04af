"""`make soak`: drive the local stack for SOAK_SECONDS (default 600) with a steady mix of what a
real day has, and watch it: requests per second, p50/p95/p99 per route, answers by status, and
the API process's resident memory (VmRSS) every minute, the corpus index and the answerer's
model included. Goals: no 5xx, 429s only where a limit is meant to trip, memory after the
first minute flat within 10 %, p99 not drifting upward. Exit status 1 if one is missed.

What it starts, all on loopback, all stopped at the end: an in-memory DynamoDB Local
(tools/dynamodb_local.py), the tables and the shipped corpus, and the API as `make run` serves it
(`python -m tools.local_api`, its own process, so its memory is its own; its log lines go to
build/soak/api.log).

The mix (weights in MIX): chats, "another line" (the same input, the lines shown excluded),
history pages and searches, the board (read, post, delete), ratings, bookmarks, share links and
their public page, exports, profile reads, token refreshes, logins (after a logout), sign-ups,
deleting a chat, deleting an account (then a new sign-up takes its place). A pool of SOAK_USERS
accounts; SOAK_WORKERS threads, each holding one account at a time, paced together to
SOAK_RPS actions a second (an action is one to three requests).

Limits: every user is paced under the per-user limits (chats, ratings/bookmarks/shares, board
posts, per minute, hour and day, read from the same settings the API uses), so they never see
a 429. One *probe* user a minute sends CHAT_LIMIT_PER_MINUTE + 2 chats at once and must get
exactly 2 refused: the 429s a limit is meant to give, reported apart. The one limit raised is
sign-ups per address (SIGNUP_LIMIT_PER_HOUR): every soak user signs up from 127.0.0.1.

Bounded: it stops after SOAK_SECONDS, or after SOAK_MAX_REQUESTS requests (default: twice the
planned count), whichever comes first; Ctrl-C stops it early with the figures so far.

    SOAK_SECONDS=60 make soak
    python -m tools.soak          # the same, with the environment's SOAK_* settings
"""
import collections
import http.client
import json
import math
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from tools import dynamodb_local

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = '127.0.0.1'  # loopback only: nothing here ever talks to another machine
OUT_DIR = os.environ.get('SOAK_OUT') or os.path.join(ROOT, 'build', 'soak')  # the API's log
PASSWORD = 'soak password 1'
ORIGIN = 'http://localhost:8080'  # a frontend origin: answers carry CORS as the browser gets them

# What one "day" of users does, relative weights of actions.
MIX = {
    'chat': 26, 'another_line': 8, 'history': 12, 'search': 2, 'board_read': 6, 'board_post': 2,
    'rate': 8, 'bookmark': 3, 'share': 3, 'share_read': 4, 'export': 2, 'profile': 4, 'refresh': 6,
    'login': 3, 'signup': 2, 'delete_chat': 3, 'delete_account': 1,
}


def env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# -- figures --------------------------------------------------------------------------------------
def pct(samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of samples."""
    if not samples:
        return float('nan')
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


class Stats:
    """Every answer: its route, status and time, by route and by minute of the run."""

    def __init__(self):
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.statuses: collections.Counter = collections.Counter()  # (route, status, expected)
        self.minutes: dict[int, list[float]] = collections.defaultdict(list)  # latencies by minute
        self.minute_errors: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        self.count = 0
        self.transport_errors: collections.Counter = collections.Counter()
        self.client_errors: collections.Counter = collections.Counter()  # bugs of this tool, not the API's

    def record(self, route: str, status: int, ms: float, expected: bool = False) -> None:
        with self.lock:
            minute = int((time.monotonic() - self.started) // 60)
            self.latencies[route].append(ms)
            self.minutes[minute].append(ms)
            self.statuses[(route, status, expected)] += 1
            if status >= 400:
                self.minute_errors[minute][(status, expected)] += 1
            self.count += 1

    def transport_error(self, route: str, exc: BaseException) -> None:
        with self.lock:
            self.transport_errors[(route, type(exc).__name__)] += 1
            self.count += 1

    def client_error(self, action: str, exc: BaseException) -> None:
        with self.lock:
            self.client_errors[(action, repr(exc)[:200])] += 1


# -- HTTP -----------------------------------------------------------------------------------------
class Client:
    """One kept-alive connection to the API (a browser keeps its own), timing every request."""

    def __init__(self, port: int, stats: Stats):
        self.port, self.stats, self.conn = port, stats, None

    def request(self, route: str, method: str, path: str, body: Any = None, token: str | None = None,
                expect: tuple[int, ...] | Callable[[int], bool] = ()) -> tuple[int, Any]:
        """(status, parsed JSON body or None); -1 if the connection failed. A status in `expect`
        (or one `expect(status)` accepts, asked once the answer is in) is counted as meant:
        a 404 for "another line" past the last fitting line, the probe's 429s (MEANT)."""
        headers = {'Origin': ORIGIN}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        if token:
            headers['Authorization'] = 'Bearer ' + token
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more, anew
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt == 1:
                    continue
                self.stats.transport_error(route, exc)
                return -1, None
            except OSError as exc:
                self.close()
                self.stats.transport_error(route, exc)
                return -1, None
            ms = (time.perf_counter() - started) * 1000
            if resp.getheader('Connection', '').lower() == 'close':
                self.close()
            meant = expect(resp.status) if callable(expect) else resp.status in expect
            self.stats.record(route, resp.status, ms, meant)
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, None
        return -1, None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# -- users and their limits -------------------------------------------------------------------------
class Limits:
    """The per-user limits the API applies (the same settings), mirrored so users stay under them."""

    def __init__(self):
        from chalicelib import limits
        from chalicelib.core import settings
        cfg = settings.reload()
        self.windows = {kind: [(limit, seconds) for limit, seconds in spec.windows(cfg) if limit > 0]
                        for kind, spec in limits.KINDS.items()}
        self.chat_per_minute = cfg.chat_limit_per_minute
        self.access_ttl = cfg.access_ttl

    def __str__(self) -> str:
        unit = {60: 'minute', 3600: 'hour', 86400: 'day'}
        return '; '.join(f"{kind} {', '.join(f'{n}/{unit.get(s, s)}' for n, s in windows)}"
                         for kind, windows in self.windows.items() if windows)


MARGIN = 2  # a use sent just before a window's end may be counted in the next one


@dataclass
class User:
    email: str
    access: str = ''
    refresh: str = ''
    token_at: float = field(default_factory=time.time)  # when the access token was issued
    chats: list = field(default_factory=list)  # [chat id, line id, input]
    shown: dict = field(default_factory=dict)  # input → line ids shown for it (for "another line")
    shares: list = field(default_factory=list)  # [share id, chat id]
    bookmarks: set = field(default_factory=set)
    proposals: list = field(default_factory=list)
    uses: collections.Counter = field(default_factory=collections.Counter)  # (kind, seconds, window) → n

    def can(self, limits: Limits, kind: str) -> bool:
        now = time.time()
        return all(self.uses[(kind, s, int(now // s))] < limit - min(MARGIN, limit // 5)
                   for limit, s in limits.windows[kind])

    def use(self, limits: Limits, kind: str) -> None:
        now = time.time()
        for _, s in limits.windows[kind]:
            self.uses[(kind, s, int(now // s))] += 1


class Pool:
    """Accounts, each held by one worker at a time (a session is used in order, as one browser
    tab would), and the share links anyone may open."""

    def __init__(self):
        self.lock = threading.Lock()
        self.free: list[User] = []
        self.shares: dict[str, str] = {}  # live share id → chat id
        self.emails = 0

    def new_email(self) -> str:
        with self.lock:
            self.emails += 1
            return f'soak-{self.emails}-{secrets.token_hex(3)}@example.com'

    def take(self) -> User | None:
        with self.lock:
            return self.free.pop(random.randrange(len(self.free))) if self.free else None

    def give(self, user: User) -> None:
        with self.lock:
            self.free.append(user)

    def add_shares(self, pairs) -> None:
        with self.lock:
            self.shares.update(pairs)

    def drop_shares(self, ids) -> None:
        with self.lock:
            for share_id in ids:
                self.shares.pop(share_id, None)

    def any_share(self) -> str | None:
        with self.lock:
            return random.choice(list(self.shares)) if self.shares else None

    def live(self, share_id: str) -> bool:
        with self.lock:
            return share_id in self.shares


# -- the actions -----------------------------------------------------------------------------------
class Soak:
    def __init__(self, port: int, stats: Stats, limits: Limits, inputs: list[str]):
        self.port, self.stats, self.limits, self.inputs = port, stats, limits, inputs
        self.pool = Pool()
        self.stop = threading.Event()
        self.probe_rounds: list[tuple[int, int]] = []  # (accepted, refused) per round

    # sign-up and login give a fresh pair of tokens
    def signup(self, c: Client, user: User | None = None) -> User | None:
        email = self.pool.new_email()
        status, body = c.request('POST /rest-auth/join', 'POST', '/rest-auth/join',
                                 {'email': email, 'nickname': '소크', 'password': PASSWORD})
        if status != 201:
            return None
        return User(email, body['access'], body['refresh'])

    def act_signup(self, c: Client, user: User) -> User:
        new = self.signup(c)
        if new is not None:
            self.pool.give(new)  # one more account in the pool
        return user

    def act_login(self, c: Client, user: User) -> User:
        c.request('POST /rest-auth/logout', 'POST', '/rest-auth/logout', token=user.access)
        status, body = c.request('POST /rest-auth/login', 'POST', '/rest-auth/login',
                                 {'email': user.email, 'password': PASSWORD})
        if status == 200:
            user.access, user.refresh, user.token_at = body['access'], body['refresh'], time.time()
        return user

    def act_refresh(self, c: Client, user: User) -> User:
        status, body = c.request('POST /rest-auth/token/refresh', 'POST', '/rest-auth/token/refresh',
                                 {'refresh': user.refresh})
        if status == 200:
            user.access, user.refresh, user.token_at = body['access'], body['refresh'], time.time()
        return user

    def act_profile(self, c: Client, user: User) -> User:
        c.request('GET /rest-auth/profile', 'GET', '/rest-auth/profile', token=user.access)
        return user

    def act_chat(self, c: Client, user: User) -> User:
        if not user.can(self.limits, 'chat'):
            return self.act_history(c, user)
        text = random.choice(self.inputs)
        user.use(self.limits, 'chat')
        status, body = c.request('POST /chat/api', 'POST', '/chat/api', {'input': text}, token=user.access)
        if status == 200 and body.get('chat'):
            line = body['chat']['chat_reply'].get('line_id')
            user.chats.append([body['chat']['id'], line, text])
            user.shown.setdefault(text, []).append(line)
        return user

    def act_another_line(self, c: Client, user: User) -> User:
        if not user.chats or not user.can(self.limits, 'chat'):
            return self.act_chat(c, user)
        text = random.choice(user.chats)[2]
        shown = [line for line in user.shown.get(text, []) if line][-50:]
        user.use(self.limits, 'chat')
        # 404 once every fitting line was shown: the answer "another line" is meant to give then
        status, body = c.request('POST /chat/api (another line)', 'POST', '/chat/api',
                                 {'input': text, 'exclude': shown}, token=user.access, expect=(404,))
        if status == 200 and body.get('chat'):
            line = body['chat']['chat_reply'].get('line_id')
            user.chats.append([body['chat']['id'], line, text])
            user.shown.setdefault(text, []).append(line)
        return user

    def act_history(self, c: Client, user: User) -> User:
        status, body = c.request('GET /chat/model', 'GET', '/chat/model?per-page=5', token=user.access)
        for _ in range(random.choice((0, 0, 1, 2))):  # some read on
            if status != 200 or not body.get('next'):
                break
            parts = urlsplit(body['next'])
            status, body = c.request('GET /chat/model (next page)', 'GET', parts.path + '?' + parts.query,
                                     token=user.access)
        return user

    def act_search(self, c: Client, user: User) -> User:
        word = random.choice(random.choice(self.inputs).split())[:10]
        c.request('GET /chat/model?q=', 'GET', '/chat/model?q=' + quote(word), token=user.access)
        return user

    def act_board_read(self, c: Client, user: User) -> User:
        status, body = c.request('GET /quote', 'GET', '/quote?per-page=10', token=user.access)
        if status == 200 and body.get('results'):
            item = random.choice(body['results'])
            c.request('GET /quote/{id}', 'GET', '/quote/' + item['id'], token=user.access)
        return user

    def act_board_post(self, c: Client, user: User) -> User:
        if user.proposals and random.random() < 0.3:
            c.request('DELETE /quote/{id}', 'DELETE', '/quote/' + user.proposals.pop(), token=user.access)
            return user
        if not user.can(self.limits, 'board_post'):
            return self.act_board_read(c, user)
        user.use(self.limits, 'board_post')
        status, body = c.request('POST /quote', 'POST', '/quote', {
            'title': '이 대사도 넣어 주세요', 'content': '우리는 어떻게든 이길 겁니다.',
            'description': '지고 있을 때 다시 해 보자는 마음이 필요할 때', 'scene': random.randint(1, 16),
            'speaker': '백승수'}, token=user.access)
        if status == 201:
            user.proposals.append(body['id'])
        return user

    def act_rate(self, c: Client, user: User) -> User:
        if not user.chats or not user.can(self.limits, 'keep'):
            return self.act_history(c, user)
        chat_id = random.choice(user.chats)[0]
        user.use(self.limits, 'keep')
        c.request('PUT /chat/model/{id}/rating', 'PUT', f'/chat/model/{chat_id}/rating',
                  {'value': random.choice((1, 1, -1, 0))}, token=user.access)
        return user

    def act_bookmark(self, c: Client, user: User) -> User:
        lines = [line for _, line, _ in user.chats if line]
        if user.bookmarks and random.random() < 0.3:
            line = user.bookmarks.pop()
            c.request('DELETE /chat/bookmarks/{line}', 'DELETE', '/chat/bookmarks/' + quote(line), token=user.access)
            return user
        if not lines or not user.can(self.limits, 'keep'):
            c.request('GET /chat/bookmarks', 'GET', '/chat/bookmarks', token=user.access)
            return user
        line = random.choice(lines)
        user.use(self.limits, 'keep')
        status, _ = c.request('PUT /chat/bookmarks/{line}', 'PUT', '/chat/bookmarks/' + quote(line), token=user.access)
        if status == 200:
            user.bookmarks.add(line)
        return user

    def act_share(self, c: Client, user: User) -> User:
        if not user.chats or not user.can(self.limits, 'keep'):
            c.request('GET /chat/shares', 'GET', '/chat/shares', token=user.access)
            return user
        chat_id = random.choice(user.chats)[0]
        if sum(1 for _, cid in user.shares if cid == chat_id) >= 8:  # a card holds at most 10 live links
            return user
        user.use(self.limits, 'keep')
        status, body = c.request('POST /chat/model/{id}/share', 'POST', f'/chat/model/{chat_id}/share',
                                 {'include_input': random.random() < 0.5}, token=user.access)
        if status == 201:
            user.shares.append([body['id'], chat_id])
            self.pool.add_shares({body['id']: chat_id})
        return user

    def act_share_read(self, c: Client, user: User) -> User:
        share_id = self.pool.any_share()
        if share_id is None:
            return self.act_history(c, user)
        # a 404 is meant when its chat or owner was deleted while the page was being read
        c.request('GET /share/{id}', 'GET', '/share/' + share_id,
                  expect=lambda status: status == 404 and not self.pool.live(share_id))
        return user

    def act_export(self, c: Client, user: User) -> User:
        fmt = random.choice(('json', 'csv'))
        c.request('GET /chat/export', 'GET', '/chat/export?format=' + fmt, token=user.access)
        return user

    def act_delete_chat(self, c: Client, user: User) -> User:
        if len(user.chats) < 3:
            return self.act_chat(c, user)
        chat_id, line, text = user.chats.pop(random.randrange(len(user.chats)))
        gone = [s for s, cid in user.shares if cid == chat_id]
        self.pool.drop_shares(gone)  # the links go with the chat
        user.shares = [s for s in user.shares if s[1] != chat_id]
        c.request('DELETE /chat/model/{id}', 'DELETE', '/chat/model/' + chat_id, token=user.access)
        return user

    def act_delete_account(self, c: Client, user: User) -> User | None:
        self.pool.drop_shares([s for s, _ in user.shares])
        status, _ = c.request('DELETE /rest-auth/profile', 'DELETE', '/rest-auth/profile', {'password': PASSWORD},
                              token=user.access)
        if status != 204:
            return user
        return self.signup(c)  # someone new takes the place: the pool keeps its size

    # -- the limit probe: the one place a 429 is meant to appear ----------------------------------
    def probe_each_minute(self) -> None:
        """At second 20 of every minute (so a burst never straddles two of the limit's windows),
        CHAT_LIMIT_PER_MINUTE + 2 chats from a fresh account: exactly 2 must be refused."""
        c = Client(self.port, self.stats)
        try:
            while True:
                now = time.time()
                at = now // 60 * 60 + 20
                if at < now + 0.5:
                    at += 60
                if self.stop.wait(at - now):
                    return
                self.probe(c)
        finally:
            c.close()

    def probe(self, c: Client) -> None:
        user = self.signup(c)
        if user is None:
            return
        accepted = refused = 0
        for i in range(self.limits.chat_per_minute + 2):
            status, _ = c.request('POST /chat/model (limit probe)', 'POST', '/chat/model',
                                  {'content': f'한도 확인 {i}', 'chat_reply': {'scene': 1, 'quote': '대사',
                                                                             'description': '설명'}},
                                  token=user.access, expect=(429,))
            accepted += status == 201
            refused += status == 429
        self.probe_rounds.append((accepted, refused))
        c.request('DELETE /rest-auth/profile', 'DELETE', '/rest-auth/profile', {'password': PASSWORD},
                  token=user.access)


# -- processes and memory --------------------------------------------------------------------------
def shown(path: str) -> str:
    """A path as short as it reads well: relative inside the repository, else as it is."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith('..') else rel


def rss_mib(pid: int) -> float | None:
    """VmRSS of a process, from /proc/<pid>/status (Linux)."""
    try:
        with open(f'/proc/{pid}/status', encoding='ascii') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# -- the run --------------------------------------------------------------------------------------
def settings_env(ddb_port: int) -> dict[str, str]:
    env = dynamodb_local.local_aws_env(ddb_port)
    env.update({
        'STAGE': 'local', 'TABLE_PREFIX': 'stove-soak', 'JWT_SECRET': secrets.token_urlsafe(48),
        'DYNAMODB_READ_TIMEOUT': '10',  # DynamoDB Local, as make run
        'CORS_ORIGINS': ORIGIN, 'LOG_FORMAT': 'json',
        # every soak user signs up from 127.0.0.1: the per-address sign-up limit is raised, the
        # per-user limits stay as configured and users are paced under them
        'SIGNUP_LIMIT_PER_HOUR': '1000000',
    })
    for name in ('BCRYPT_ROUNDS', 'CHAT_LIMIT_PER_MINUTE', 'CHAT_LIMIT_PER_DAY', 'KEEP_LIMIT_PER_MINUTE',
                 'KEEP_LIMIT_PER_DAY', 'BOARD_POST_LIMIT_PER_HOUR', 'OPENAI_API_KEY', 'OPENAI_BASE_URL'):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


FALLBACK_INPUTS = ['상사가 부당한 일을 자꾸 시켜요', '시험에 떨어져서 너무 속상해요', '연봉 협상이 잘 안 됐어요',
                   '친구랑 크게 싸웠어요', '새로운 일을 시작하는 게 두려워요']


def load_inputs() -> list[str]:
    """What people write: the labelled situations' texts (tools/data/relevance.jsonl)."""
    try:
        with open(os.path.join(ROOT, 'tools', 'data', 'relevance.jsonl'), encoding='utf-8') as f:
            texts = [json.loads(line).get('text') for line in f if line.strip()]
    except (OSError, ValueError):
        texts = []
    return [t for t in texts if isinstance(t, str) and t.strip()] or FALLBACK_INPUTS


def worker(soak: Soak, pacer: 'Pacer', max_requests: int, actions: list[str], weights: list[int]) -> None:
    c = Client(soak.port, soak.stats)
    try:
        while not soak.stop.is_set():
            if not pacer.wait(soak.stop) or soak.stats.count >= max_requests:
                break
            user = soak.pool.take()
            if user is None:
                time.sleep(0.05)
                continue
            action = random.choices(actions, weights)[0]
            try:
                if time.time() - user.token_at > soak.limits.access_ttl - 120:  # as the frontend does
                    user = soak.act_refresh(c, user)
                user = getattr(soak, 'act_' + action)(c, user)
            except Exception as exc:  # this tool's own slip: counted and shown, the run goes on
                soak.stats.client_error(action, exc)
            finally:
                if user is not None:
                    soak.pool.give(user)
    finally:
        c.close()


class Pacer:
    """Hands out evenly spaced start times: SOAK_RPS actions a second across all workers."""

    def __init__(self, rate: float):
        self.interval, self.next, self.lock = 1.0 / rate, time.monotonic(), threading.Lock()

    def wait(self, stop: threading.Event) -> bool:
        with self.lock:
            now = time.monotonic()
            self.next = max(self.next + self.interval, now - 1.0)  # a stall is not made up in a rush
            at = self.next
        return not stop.wait(max(0.0, at - time.monotonic()))


def minute_line(stats: Stats, minute: int, seconds: float, api_rss: float | None, ddb_rss: float | None) -> str:
    with stats.lock:
        samples = list(stats.minutes.get(minute, []))
        errors = dict(stats.minute_errors.get(minute, {}))
    server = sum(n for (status, _), n in errors.items() if status >= 500)
    expected429 = sum(n for (status, exp), n in errors.items() if status == 429 and exp)
    other429 = sum(n for (status, exp), n in errors.items() if status == 429 and not exp)
    return (f'minute {minute + 1:>2}: {len(samples) / seconds:5.1f} req/s  p50 {pct(samples, 50):6.1f}  '
            f'p95 {pct(samples, 95):6.1f}  p99 {pct(samples, 99):6.1f} ms  5xx {server}  '
            f'429 {expected429} meant + {other429} not  API RSS {api_rss or float("nan"):6.1f} MiB'
            + (f'  (DynamoDB Local {ddb_rss:.0f} MiB)' if ddb_rss else ''))


def report(stats: Stats, soak: Soak, elapsed: float, memory: list[tuple[int, float | None]], p99s: list[float],
           config: str) -> bool:
    print(f'\n== soak: {elapsed:.0f} s, {stats.count} requests, {stats.count / elapsed:.1f} req/s ({config})')
    print(f"\n{'route':38} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  ms")
    for route in sorted(stats.latencies, key=lambda r: -len(stats.latencies[r])):
        s = stats.latencies[route]
        print(f'{route:38} {len(s):6d} {pct(s, 50):7.1f} {pct(s, 95):7.1f} {pct(s, 99):7.1f} {max(s):7.1f}')
    everything = [x for s in stats.latencies.values() for x in s]
    print(f"{'all':38} {len(everything):6d} {pct(everything, 50):7.1f} {pct(everything, 95):7.1f} "
          f'{pct(everything, 99):7.1f} {max(everything, default=0):7.1f}')

    by_status = collections.Counter()
    for (_, status, _), n in stats.statuses.items():
        by_status[status] += n
    print('\nanswers by status: ' + ', '.join(f'{s}: {n}' for s, n in sorted(by_status.items())))
    errors = sorted((k, n) for k, n in stats.statuses.items() if k[1] >= 400 and n)
    if errors:
        print('errors by route and status:')
        for (route, status, expected), n in errors:
            why = f"  (meant: {MEANT.get((route, status), 'expected')})" if expected else ''
            print(f'  {status} {route:38} {n:6d}{why}')
    for (route, name), n in sorted(stats.transport_errors.items()):
        print(f'  connection failed ({name}) {route}: {n}')
    for (action, what), n in sorted(stats.client_errors.items()):
        print(f'  soak tool error in {action} ({n}x): {what}')

    meant = sum(n for (_, s, e), n in stats.statuses.items() if s == 429 and e)
    unmeant = sum(n for (_, s, e), n in stats.statuses.items() if s == 429 and not e)
    rounds = soak.probe_rounds
    exact = all(r == (soak.limits.chat_per_minute, 2) for r in rounds)
    print(f'\n429s: {meant} where a limit was meant to trip (limit probe: {len(rounds)} round(s) of '
          f'{soak.limits.chat_per_minute} + 2 chats, {"each" if exact else "NOT each"} refused exactly 2), '
          f'{unmeant} anywhere else')

    server = sum(n for (_, s, _), n in stats.statuses.items() if s >= 500)
    goals = [(f'no 5xx: {server}; failed connections: {sum(stats.transport_errors.values())}',
              server == 0 and not stats.transport_errors),
             (f'429s only where meant: {unmeant} elsewhere', unmeant == 0 and exact)]
    print('\nAPI process resident memory (VmRSS), by minute: '
          + ', '.join(f'{m}: {mib:.1f}' if mib else f'{m}: n/a' for m, mib in memory) + ' MiB')
    after = [mib for m, mib in memory if m >= 1 and mib]
    if len(after) >= 2:
        base = after[0]
        spread = max(abs(mib - base) / base for mib in after) * 100
        goals.append((f'memory after the first minute within 10 % of minute 1\'s: {min(after):.1f}–{max(after):.1f} '
                      f'MiB, at most {spread:.1f} % off', spread <= 10))
    else:
        goals.append(('memory flat after the first minute: not judged (a run of 2+ minutes is needed)', True))
    if len(p99s) >= 4:
        third = max(1, len(p99s) // 3)
        first, last = statistics.median(p99s[:third]), statistics.median(p99s[-third:])
        goals.append((f'p99 not drifting up: first third {first:.1f} ms, last third {last:.1f} ms '
                      f'({last / first:.2f}x; drift means over 1.5x)', last <= 1.5 * first))
    else:
        goals.append(('p99 drift: not judged (a run of 4+ minutes is needed)', True))
    print('\ngoals:')
    for text, ok in goals:
        print(f"  {'ok  ' if ok else 'MISS'} {text}")
    return all(ok for _, ok in goals)


MEANT = {('POST /chat/model (limit probe)', 429): 'the chat limit, tripped on purpose',
         ('POST /chat/api (another line)', 404): 'every fitting line was shown',
         ('GET /share/{id}', 404): 'its chat or owner was deleted meanwhile'}


def main() -> int:
    seconds = env_number('SOAK_SECONDS', 600)
    rate = env_number('SOAK_RPS', 10)
    users = int(env_number('SOAK_USERS', 40))
    workers = int(env_number('SOAK_WORKERS', 8))
    max_requests = int(env_number('SOAK_MAX_REQUESTS', rate * seconds * 6 + 2000))  # actions are 1-3 requests
    if not (0 < seconds <= 24 * 3600 and 0 < rate <= 500 and 1 <= users <= 10000 and 1 <= workers <= 64):
        print('SOAK_SECONDS (0, 86400], SOAK_RPS (0, 500], SOAK_USERS [1, 10000], SOAK_WORKERS [1, 64]',
              file=sys.stderr)
        return 2
    os.makedirs(OUT_DIR, exist_ok=True)
    ddb = api = None
    log = None
    try:
        ddb_port, api_port = dynamodb_local.free_port(), dynamodb_local.free_port()
        ddb = dynamodb_local.start(ddb_port)
        env = settings_env(ddb_port)
        os.environ.update(env)
        from chalicelib import storage
        from chalicelib.chat import corpus
        from chalicelib.core import settings
        settings.reload()
        storage.store().tables.create()
        lines = corpus.load_shipped()
        limits = Limits()
        log = open(os.path.join(OUT_DIR, 'api.log'), 'w')  # noqa: SIM115 (closed in finally)
        api = subprocess.Popen([sys.executable, '-m', 'tools.local_api', '--host', HOST, '--port', str(api_port)],
                               cwd=ROOT, env=dict(os.environ, **env), stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
        dynamodb_local.wait_for_port(api_port, proc=api)
        config = (f'target {rate:g} actions/s, {users} users, {workers} workers, corpus {lines} lines, '
                  f"answerer {'OpenAI-compatible' if env.get('OPENAI_API_KEY') else 'local'}, bcrypt "
                  f'{settings.get().bcrypt_rounds} rounds; limits: {limits}')
        print(f'soak: API pid {api.pid} on http://{HOST}:{api_port} (log {shown(log.name)}), '
              f'DynamoDB Local pid {ddb.pid}; {seconds:g} s at most, {max_requests} requests at most\n  {config}',
              flush=True)

        stats = Stats()
        soak = Soak(api_port, stats, limits, load_inputs())
        warm = Client(api_port, Stats())  # the accounts and a first chat each: not measured
        for _ in range(users):
            user = soak.signup(warm)
            if user is None:
                raise SystemExit('soak: a sign-up failed while setting up; see ' + log.name)
            soak.act_chat(warm, user)
            soak.pool.give(user)
        warm.close()
        baseline = rss_mib(api.pid)
        print(f'  {users} accounts ready; minute 0 (after start-up and warm-up): API RSS '
              f'{baseline or float("nan"):.1f} MiB', flush=True)

        stats.started = started = time.monotonic()
        pacer = Pacer(rate)
        actions, weights = list(MIX), list(MIX.values())
        threads = [threading.Thread(target=worker, args=(soak, pacer, max_requests, actions, weights), daemon=True)
                   for _ in range(workers)]

        threads.append(threading.Thread(target=soak.probe_each_minute, daemon=True))
        for t in threads:
            t.start()

        memory: list[tuple[int, float | None]] = [(0, baseline)]
        p99s: list[float] = []
        deadline = started + seconds
        minute = 0
        try:
            while True:
                edge = min(deadline, started + 60 * (minute + 1))
                while time.monotonic() < edge and stats.count < max_requests and api.poll() is None:
                    time.sleep(min(0.5, max(0.0, edge - time.monotonic())))
                if api.poll() is not None:
                    print(f'soak: the API process exited ({api.returncode}); see {log.name}', file=sys.stderr)
                    break
                span = time.monotonic() - (started + 60 * minute)
                mib = rss_mib(api.pid)
                if span >= 30 or minute == 0:  # a short last piece is reported at the end only
                    memory.append((minute + 1, mib))
                    with stats.lock:
                        p99s.append(pct(stats.minutes.get(minute, []), 99))
                    print(minute_line(stats, minute, span, mib, rss_mib(ddb.pid)), flush=True)
                minute += 1
                if time.monotonic() >= deadline or stats.count >= max_requests:
                    break
        except KeyboardInterrupt:
            print('\nsoak: stopped early (Ctrl-C)', file=sys.stderr)
        soak.stop.set()
        for t in threads:
            t.join(30)
        elapsed = time.monotonic() - started
        ok = report(stats, soak, elapsed, memory, [p for p in p99s if p == p], config)
        return 0 if ok else 1
    finally:
        stop_process(api)
        stop_process(ddb)
        if log is not None:
            log.close()


if __name__ == '__main__':
    sys.exit(main())
