"""The chatbot's corpus lines, their version and the change log a container catches up from.

Every corpus write moves the version (META/"corpus") and, in the same transaction, writes the
log item of the new version: what it changed. A container holding the index of version v
catches up to w by reading the log items after v (and, for a larger import, the lines it
names) only. The version is set conditioned on its old value, so racing writers cannot share
a version (and lose a log item): the loser reads the version again and retries.
"""
import random
from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.storage import keys
from chalicelib.storage.counters import Counters
from chalicelib.storage.dynamo import AGAIN, BUSIER, Again, ConditionFailed, Dynamo, plain, retried
from chalicelib.storage.records import Line

CORPUS_LOG_KEEP = 100        # versions the corpus change log keeps; a container further behind reads every line
CORPUS_LOG_IDS = 100         # line ids a log item lists, and a catch-up reads; beyond it, every line is read
CORPUS_LOG_LINES = 10        # a change of up to this many lines carries them in its log item (no read of its own)
CORPUS_WRITE_ATTEMPTS = 20   # racing corpus writers, each retrying on a version another one took


def line_of(item: dict[str, Any]) -> Line:
    """A corpus item as the line it stores (without its keys)."""
    return {k: v for k, v in item.items() if k not in ('pk', 'sk')}  # type: ignore[return-value]


class Corpus:
    def __init__(self, db: Dynamo, counters: Counters):
        self.db, self.counters = db, counters
        self._seen: int | None = None  # the corpus version last read or written by this store

    def version(self) -> int:
        self._seen = self.counters.read('corpus')
        return self._seen

    def change(self, put: list[Line], deleted: list[str], ops: list[dict[str, Any]]) -> None:
        """`ops` (a transaction's items, any conditions of their own) plus the version bump and
        its log item, atomically; ConditionFailed only if one of `ops`' conditions failed."""
        t = self.db.cfg.quotes_table
        change: dict[str, Any] = {'deleted': sorted(set(deleted))} if deleted else {}
        if len(put) + len(deleted) > CORPUS_LOG_IDS:
            change = {'full': True}
        elif len(put) > CORPUS_LOG_LINES:
            change['put_ids'] = sorted({line['id'] for line in put})
        elif put:
            change['lines'] = put

        def attempt(n: int) -> Again | None:
            seen = self._seen  # right unless another container wrote since: then read again
            if seen is None or n:
                seen = self.version()
            version = seen + 1
            log = {**keys.corpus_log(version), **change}
            unchanged = 'attribute_not_exists(#n) OR #n = :seen' if seen == 0 else '#n = :seen'
            bump = [{'Update': {'TableName': t, 'Key': keys.meta('corpus'), 'ConditionExpression': unchanged,
                                'UpdateExpression': 'SET #n = :v', 'ExpressionAttributeNames': {'#n': 'value'},
                                'ExpressionAttributeValues': {':seen': seen, ':v': version}}},
                    {'Put': {'TableName': t, 'Item': log, 'ConditionExpression': 'attribute_not_exists(sk)'}}]
            if version > CORPUS_LOG_KEEP:  # the log keeps the last CORPUS_LOG_KEEP versions
                bump.append({'Delete': {'TableName': t, 'Key': keys.corpus_log(version - CORPUS_LOG_KEEP)}})
            try:
                self.db.transact(ops + bump)
            except ConditionFailed as exc:
                reasons = exc.detail or []
                if any(r == 'ConditionalCheckFailed' for r in reasons[:len(ops)]):
                    raise
                return AGAIN  # another writer took this version: read it again
            self._seen = version
            return None
        retried(attempt, CORPUS_WRITE_ATTEMPTS, pause=lambda n: random.uniform(0, 0.01) * (n - 1), busy=BUSIER)

    def changes(self, since: int, version: int) -> dict[str, Line | None] | None:
        """What changed after version `since` up to `version`: line id → the line (None: deleted).
        One Query of the log, and for a larger import (ids without their lines) one BatchGetItem.
        None when the log cannot say: items expired, a change too large to list, or more lines
        changed than CORPUS_LOG_IDS (then reading every line is the way)."""
        if since >= version:
            return {} if since == version else None
        between = (Key('pk').eq(keys.CORPUS_LOG)
                   & Key('sk').between(keys.version_key(since + 1), keys.version_key(version)))
        items = list(self.db.query_all(self.db.quotes, ConsistentRead=True, KeyConditionExpression=between))
        if len(items) != version - since or any(i.get('full') for i in items):
            return None
        changes: dict[str, Line | None] = {}
        unread = set()
        for item in items:  # in version order: a later change to a line wins
            for line_id in item.get('deleted', []):
                changes[line_id] = None
            for line in item.get('lines', []):
                changes[line['id']] = plain(line)
            unread.update(item.get('put_ids', []))
        if len(changes.keys() | unread) > CORPUS_LOG_IDS:
            return None
        if unread:  # read as they are now, which is no older than any logged version of them
            found = self.lines_by_id(unread)
            changes.update({line_id: found.get(line_id) for line_id in unread})
        return changes

    def lines_by_id(self, line_ids: Iterable[str]) -> dict[str, Line]:
        """Those lines that exist (one BatchGetItem per 100 ids), by id."""
        t = self.db.cfg.quotes_table
        found = self.db.batch_get({t: [keys.line(i) for i in sorted(set(line_ids))]})[t]
        return {i['sk']: line_of(i) for i in found}

    def line(self, line_id: str) -> Line | None:
        item = self.db.quotes.get_item(Key=keys.line(line_id)).get('Item')
        return line_of(plain(item)) if item else None

    def lines(self) -> list[Line]:
        # strongly consistent, like the version read before it: no line written before that
        # version may be missing from an index labelled with it
        return [line_of(i) for i in self.db.query_lean(self.db.quotes, KeyConditionExpression=Key('pk').eq(keys.CORPUS),
                                                       ConsistentRead=True)]

    def put(self, lines: list[Line]) -> None:
        """Write lines keyed by their own id (rewriting one is harmless), then bump the version."""
        if not lines:
            return
        with self.db.quotes.batch_writer() as batch:
            for line in lines:
                batch.put_item(Item=dict(line, **keys.line(line['id'])))
        self.change(lines, [], [])

    def delete(self, line_ids: list[str]) -> None:
        if not line_ids:
            return
        with self.db.quotes.batch_writer() as batch:
            for line_id in line_ids:
                batch.delete_item(Key=keys.line(line_id))
        self.change([], line_ids, [])
