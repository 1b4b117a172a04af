"""`make run`: DynamoDB Local (data kept in .data/), tables and demo corpus, the API on
Chalice's local server, the static frontend (tools/frontend_server.py, which answers config.js
with this run's API URL); prints the URLs; Ctrl-C stops all of it."""
import os
import signal
import subprocess
import sys
import time

from tools import dynamodb_local, localenv
from tools.dynamodb_local import ROOT, wait_for_port


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
        procs.append(subprocess.Popen([sys.executable, '-m', 'tools.local_api',
                                       '--port', str(ports['api'])], cwd=ROOT, env=dict(os.environ, **env)))
        # frontend/ with this run's config.js from memory: nothing written into the work tree, so
        # two runs in one checkout on other ports each point their browser at their own API
        procs.append(subprocess.Popen([sys.executable, '-m', 'tools.frontend_server', '--port', str(ports['frontend']),
                                       '--api-url', api_url], cwd=ROOT, stdout=subprocess.DEVNULL))
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
