"""Print the Lambda zip's size and what dominates it; fail if it is over the limit.

Usage: python deploy/package_report.py build/package [--limit-mb 10]

The limit is ours, not Lambda's (50 MB zipped / 250 MB unzipped): a small zip keeps cold starts
and `aws cloudformation package` uploads quick, and a jump in size flags a dependency change.
"""
import argparse
import collections
import os
import sys
import zipfile

MB = 1000 * 1000


def report(package_dir: str, limit_mb: float = 10.0, top: int = 6):
    """(zip size in bytes, unzipped size, [(top-level name, compressed bytes)] biggest first)."""
    path = os.path.join(package_dir, 'deployment.zip')
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
    args = parser.parse_args(argv)
    size, unzipped, biggest = report(args.package_dir, args.limit_mb)
    print('Lambda zip {}: {:.2f} MB ({:.2f} MB unzipped; our limit {:.0f} MB)'.format(
        os.path.join(args.package_dir, 'deployment.zip'), size / MB, unzipped / MB, args.limit_mb))
    print('  largest parts: ' + ', '.join(f'{name} {n / MB:.2f} MB' for name, n in biggest))
    if size > args.limit_mb * MB:
        print(f'error: the Lambda zip is over {args.limit_mb:.0f} MB', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
