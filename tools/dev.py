"""`make run`: DynamoDB Local (data kept in .data/), tables and demo corpus, the API on
Chalice's local server, the static frontend; prints the URLs; Ctrl-C stops all of it."""
import os
import signal
import subprocess
import sys
import time

from tools import dynamodb_local, localenv
from tools.dynamodb_local import ROOT, wait_for_port


def write_frontend_config(api_url: str) -> None:
    path = os.path.join(ROOT, 'frontend', 'config.js')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('// Written by `make run`; a deploy writes the production one.\n'
                f'window.STOVE_CONFIG = {{ apiBaseUrl: {api_url!r} }};\n')


def main() -> int:
    ports = localenv.ports()
    os.environ.update(dynamodb_local.local_aws_env(ports['dynamodb']))  # the server started below, always
    env = localenv.apply()
    procs = []

    def stop(*_):
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    for name, port in ports.items():
        dynamodb_local.ensure_free(port, name)
    try:
        os.makedirs(localenv.DATA_DIR, exist_ok=True)
        procs.append(dynamodb_local.start(ports['dynamodb'], db_path=os.path.join(localenv.DATA_DIR, 'dynamodb'),
                                          log_path=os.path.join(localenv.DATA_DIR, 'dynamodb.log')))
        subprocess.run([sys.executable, '-m', 'tools.cli', 'init'], check=True, cwd=ROOT,
                       env=dict(os.environ, **env))
        api_url = f"http://localhost:{ports['api']}"
        write_frontend_config(api_url)
        procs.append(subprocess.Popen([sys.executable, '-m', 'tools.local_api',
                                       '--port', str(ports['api'])], cwd=ROOT, env=dict(os.environ, **env)))
        procs.append(subprocess.Popen([sys.executable, '-m', 'http.server', str(ports['frontend']),
                                       '--bind', '127.0.0.1', '--directory', os.path.join(ROOT, 'frontend')],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for_port(ports['api'], proc=procs[1])
        wait_for_port(ports['frontend'], proc=procs[2])
        model = 'OpenAI' if os.environ.get('OPENAI_API_KEY') else 'local retrieval (set OPENAI_API_KEY for OpenAI)'
        print('\n  Stove League chatbot is running\n'
              f"    open:      http://localhost:{ports['frontend']}/\n"
              f'    API:       {api_url}   (health: {api_url}/health)\n'
              f"    DynamoDB:  http://127.0.0.1:{ports['dynamodb']}   (data in .data/dynamodb)\n"
              f'    answerer:  {model}\n'
              '  Ctrl-C stops everything.\n',
              flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print('a service stopped unexpectedly; shutting down', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == '__main__':
    sys.exit(main())
