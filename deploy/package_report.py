"""Print the Lambda zip's size and what dominates it; fail if it is over the limit.

Usage: python deploy/package_report.py build/package [--limit-mb 10] [--layer]

The limit is ours, not Lambda's (50 MB zipped / 250 MB unzipped): a small zip keeps cold starts
and `aws cloudformation package` uploads quick, and a jump in size flags a dependency change.
With --layer, the embedding layer's size too, and Lambda's own limit: the function and its
layers unzipped at most 250 MB.
"""
import argparse
import collections
import os
import sys
import zipfile

MB = 1000 * 1000


LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function code and every layer, unzipped


def report(package_dir: str, limit_mb: float = 10.0, top: int = 6, name: str = 'deployment.zip'):
    """(zip size in bytes, unzipped size, [(top-level name, compressed bytes)] biggest first)."""
    path = os.path.join(package_dir, name)
    sizes = collections.Counter()
    unzipped = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            head = info.filename.split('/', 1)[0]
            if head.endswith('.dist-info'):
                head = head.split('-', 1)[0] + ' (metadata)'
            sizes[head] += info.compress_size
            unzipped += info.file_size
    return os.path.getsize(path), unzipped, sizes.most_common(top)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('package_dir')
    parser.add_argument('--limit-mb', type=float, default=10.0)
    parser.add_argument('--layer', action='store_true')
    args = parser.parse_args(argv)
    if args.layer:
        return layer_report(args.package_dir)
    size, unzipped, biggest = report(args.package_dir, args.limit_mb)
    print('Lambda zip {}: {:.2f} MB ({:.2f} MB unzipped; our limit {:.0f} MB)'.format(
        os.path.join(args.package_dir, 'deployment.zip'), size / MB, unzipped / MB, args.limit_mb))
    print('  largest parts: ' + ', '.join(f'{name} {n / MB:.2f} MB' for name, n in biggest))
    if size > args.limit_mb * MB:
        print(f'error: the Lambda zip is over {args.limit_mb:.0f} MB', file=sys.stderr)
        return 1
    return 0


def layer_report(package_dir: str) -> int:
    _, code, _ = report(package_dir)
    size, unzipped, biggest = report(package_dir, name='embedding-layer.zip', top=4)
    print(f'embedding layer {os.path.join(package_dir, "embedding-layer.zip")}: {size / MB:.1f} MB '
          f'({unzipped / MB:.1f} MB unzipped); function and layer unzipped {(code + unzipped) / MB:.1f} MB '
          f'of Lambda\'s 250 MiB ({LAMBDA_UNZIPPED_LIMIT / MB:.0f} MB)')
    with zipfile.ZipFile(os.path.join(package_dir, 'embedding-layer.zip')) as zf:
        parts = collections.Counter()
        for info in zf.infolist():
            parts['/'.join(info.filename.split('/')[:2])] += info.file_size
    print('  largest parts (unzipped): ' + ', '.join(f'{n} {b / MB:.1f} MB' for n, b in parts.most_common(4)))
    if code + unzipped > LAMBDA_UNZIPPED_LIMIT:
        print('error: the function and its layer are over Lambda\'s 250 MB unzipped', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
