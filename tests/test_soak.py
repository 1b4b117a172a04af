"""`make soak`'s tool (tools/soak.py): a few seconds of it against a stack of its own (its pacing
and report: tests/unit/test_soak.py)."""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_a_short_soak_runs_clean_reports_and_stops_everything(tmp_path):
    env = dict(os.environ, SOAK_SECONDS='6', SOAK_RPS='4', SOAK_USERS='4', SOAK_WORKERS='2', BCRYPT_ROUNDS='4',
               SOAK_OUT=str(tmp_path))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, '-m', 'tools.soak'], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert re.search(r'on http://127\.0\.0\.1:\d+ ', out)  # loopback only
    minute = r'minute  1: +[\d.]+ req/s +p50 +[\d.]+ +p95 +[\d.]+ +p99 +[\d.]+ ms +5xx 0 .* API RSS +[\d.]+ MiB'
    assert re.search(minute, out), out
    assert re.search(r'^POST /chat/api +\d+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+$', out, re.M), out
    assert 'answers by status: ' in out and '429s: ' in out and '0 anywhere else' in out
    assert 'ok   no 5xx: 0; failed connections: 0' in out
    assert 'soak tool error' not in out
    assert (tmp_path / 'api.log').stat().st_size > 0  # the API's own lines
    assert time.monotonic() - started < 120  # bounded: 6 s of load, then everything stops
    for pid in re.findall(r'pid (\d+)', out):  # the API and DynamoDB Local it started are gone
        assert not os.path.exists(f'/proc/{pid}'), pid
