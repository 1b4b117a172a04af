"""Chats, their ratings, and the share links that go with them."""
import random
from collections import Counter
from typing import Any, cast

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from chalicelib.storage import keys
from chalicelib.storage.counters import Counters
from chalicelib.storage.dynamo import (
    AGAIN,
    TRANSACTION_MAX,
    Again,
    ConditionFailed,
    Dynamo,
    Partition,
    failed_at,
    plain,
    retried,
)
from chalicelib.storage.records import Chat
from chalicelib.storage.stats import Stats


class Chats:
    DELETE_BATCH = 49

    def __init__(self, db: Dynamo, counters: Counters, stats: Stats):
        self.db, self.counters, self.stats = db, counters, stats

    def put(self, user_id: str, chat: Chat) -> None:
        """Save a chat and count it (and the line it gave), atomically; ConditionFailed if the
        account is gone."""
        line_id = chat['reply'].get('line_id')
        self.db.transact([
            {'Put': {'TableName': self.db.cfg.chats_table, 'Item': dict(chat, user_id=user_id),
                     'ConditionExpression': 'attribute_not_exists(chat_id)'}},
            self.counters.on_account(user_id, 'chat_count', 1),
        ] + self.stats.given_ops(user_id, Counter([line_id] if line_id else [])))

    def put_bulk(self, user_id: str, chats: list[Chat]) -> None:
        """Seed many chats at once (benchmarks, migrations): batch writes, then the counters."""
        with self.db.chats.batch_writer() as batch:
            for chat in chats:
                batch.put_item(Item=dict(chat, user_id=user_id))
        self.db.users.update_item(Key=keys.user(user_id), UpdateExpression='ADD chat_count :n',
                               ExpressionAttributeValues={':n': len(chats)})
        given = Counter(c['reply']['line_id'] for c in chats if c['reply'].get('line_id'))
        for op in self.stats.given_ops(user_id, given):
            u = op['Update']
            self.db.quotes.update_item(Key=u['Key'], UpdateExpression=u['UpdateExpression'],
                                    ExpressionAttributeValues=u['ExpressionAttributeValues'])

    def get(self, user_id: str, chat_id: str, consistent: bool = False) -> Chat | None:
        item = self.db.chats.get_item(Key=keys.chat(user_id, chat_id), ConsistentRead=consistent).get('Item')
        return plain(item) if item else None

    def of(self, user_id: str) -> Partition:
        return Partition(self.db.chats, 'user_id', user_id, 'chat_id')

    def count(self, user_id: str) -> int:
        return self.counters.of_account(user_id, 'chat_count')

    @staticmethod
    def _search_filter(words: list[str]) -> ConditionBase:
        """Every word in the input or in the line (substrings: Korean needs no word boundaries)."""
        cond = None
        for word in words:
            either = Attr('content').contains(word) | Attr('reply.quote').contains(word)
            cond = either if cond is None else cond & either
        return cond

    def search(self, user_id: str, words: list[str], limit: int, start: str | None,
                     read_budget: int, newest_first: bool = True) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` matches following `start` in that order, within one user's partition,
        reading at most `read_budget` chats.

        The second value is where to go on from: after the page's last match when there are
        more, after the last chat read when the budget ran out (the page may then be short,
        even empty), None at that end of the history.
        """
        kwargs = {'KeyConditionExpression': Key('user_id').eq(user_id), 'ScanIndexForward': not newest_first,
                  'FilterExpression': self._search_filter(words)}
        if start:
            kwargs['ExclusiveStartKey'] = {'user_id': user_id, 'chat_id': start}
        items: list[dict[str, Any]] = []
        # A first small read fills most pages; the rest of the budget, if needed, in one more
        # call (DynamoDB's 1 MB page may still cut a call in two).
        read, chunk = 0, min(read_budget, max(100, limit * 10))
        while True:
            kwargs['Limit'] = min(chunk, read_budget - read)
            resp = self.db.chats.query(**kwargs)
            read += resp['ScannedCount']
            items.extend(resp['Items'])
            if len(items) > limit:  # a full page and proof of more: go on after its last item
                return [plain(i) for i in items[:limit]], items[limit - 1]['chat_id']
            last = resp.get('LastEvaluatedKey')
            if last is None:
                return [plain(i) for i in items], None
            if read >= read_budget:
                return [plain(i) for i in items], last['chat_id']
            kwargs['ExclusiveStartKey'] = last
            chunk = read_budget

    def skip_search(self, user_id: str, words: list[str], n: int) -> str | None:
        """chat_id of the n-th newest match, or None if there are fewer (reads until found)."""
        kwargs = {'KeyConditionExpression': Key('user_id').eq(user_id), 'ScanIndexForward': False,
                  'FilterExpression': self._search_filter(words), 'ProjectionExpression': 'chat_id'}
        for seen, item in enumerate(self.db.query_all(self.db.chats, **kwargs), 1):
            if seen == n:
                return item['chat_id']
        return None

    @staticmethod
    def _unchanged(chat: dict[str, Any], values: dict[str, Any], tag: str = '') -> str:
        """A condition that the chat still exists with the rating and share links it was read with."""
        values[':r' + tag] = int(chat.get('rating', 0))
        values[':v' + tag] = int(chat.get('share_v', 0))
        rating = ('(attribute_not_exists(rating) OR rating = :r{0})' if values[':r' + tag] == 0
                  else 'rating = :r{0}')
        shares = ('(attribute_not_exists(share_v) OR share_v = :v{0})' if values[':v' + tag] == 0
                  else 'share_v = :v{0}')
        return ('attribute_exists(chat_id) AND ' + rating + ' AND ' + shares).format(tag)

    def rate(self, user_id: str, chat_id: str, value: int) -> Chat | None:
        """Set the chat's rating and move the line's 👍/👎 counts with it, atomically.

        Conditioned on the rating read a moment before, so parallel changes each move the
        counts by exactly what they changed; None if the chat does not exist.
        """
        key = keys.chat(user_id, chat_id)

        def attempt(_: int) -> Chat | Again | None:
            chat = self.get(user_id, chat_id, consistent=True)
            if chat is None:
                return None
            old = int(chat.get('rating', 0))
            if old == value:
                return chat
            values = {':new': value, ':old': old}
            cond = 'attribute_exists(chat_id) AND ' + (
                '(attribute_not_exists(rating) OR rating = :old)' if old == 0 else 'rating = :old')
            ops = [{'Update': {'TableName': self.db.cfg.chats_table, 'Key': key, 'ConditionExpression': cond,
                               'UpdateExpression': 'SET rating = :new', 'ExpressionAttributeValues': values}}]
            line_id = chat['reply'].get('line_id')
            if line_id:
                ops.append(self.stats.rating_op(line_id, (value == 1) - (old == 1), (value == -1) - (old == -1)))
            try:
                self.db.transact(ops)
                return cast(Chat, dict(chat, rating=value))
            except ConditionFailed:
                return AGAIN  # changed meanwhile: read again
        return retried(attempt, 30, pause=lambda _: random.uniform(0, 0.01),
                       busy='이 답변의 평가가 너무 자주 바뀌고 있습니다. 잠시 후 다시 시도해 주세요.')

    @staticmethod
    def _ops_for(chat: dict[str, Any]) -> int:
        """Transaction items deleting this chat takes: itself, its line's counts, two per link."""
        return 2 + 2 * len(chat.get('shares') or ())

    def _delete_chats_ops(self, user_id: str, chats: list[dict[str, Any]],
                          account: bool = True) -> list[dict[str, Any]]:
        """Delete these chats as read (a rating or link changed meanwhile fails the whole
        transaction), with their share links; take them off the account's counters (unless
        `account` is False: a purge, the account is gone) and their ratings off their lines'
        counts. The account update sits at index len(chats)."""
        ops: list[dict[str, Any]] = []
        links: list[Any] = []
        up: Counter[str] = Counter()
        down: Counter[str] = Counter()
        for i, chat in enumerate(chats):
            values: dict[str, Any] = {}
            ops.append({'Delete': {'TableName': self.db.cfg.chats_table,
                                   'Key': keys.chat(user_id, chat['chat_id']),
                                   'ConditionExpression': self._unchanged(chat, values, str(i)),
                                   'ExpressionAttributeValues': values}})
            line_id, rating = (chat.get('reply') or {}).get('line_id'), int(chat.get('rating', 0))
            if line_id and rating:
                up[line_id] += rating == 1
                down[line_id] += rating == -1
            for pair in sorted(chat.get('shares') or ()):
                entry, share_id = pair.split('|', 1)
                links += [{'Delete': {'TableName': self.db.cfg.quotes_table,
                                      'Key': keys.share(share_id)}},
                          {'Delete': {'TableName': self.db.cfg.quotes_table,
                                      'Key': keys.share_entry(user_id, entry)}}]
        if account:
            ops.append({'Update': {'TableName': self.db.cfg.users_table, 'Key': keys.user(user_id),
                                   'ConditionExpression': 'attribute_exists(pk)',
                                   'UpdateExpression': 'ADD chat_count :c, share_count :s',
                                   'ExpressionAttributeValues': {':c': -len(chats), ':s': -(len(links) // 2)}}})
        ops += [self.stats.rating_op(line_id, -up[line_id], -down[line_id]) for line_id in sorted(set(up) | set(down))]
        return ops + links

    def delete(self, user_id: str, chat_id: str) -> bool:
        """Delete one chat, its rating from its line's counts and its share links; False if absent."""
        def attempt(_: int) -> bool | Again:
            chat = self.get(user_id, chat_id, consistent=True)
            if chat is None:
                return False
            try:
                self.db.transact(self._delete_chats_ops(user_id, [cast(dict[str, Any], chat)]))
                return True
            except ConditionFailed as exc:
                if failed_at(exc, 1):
                    return False
                return AGAIN  # re-rated or shared meanwhile: read again
        return retried(attempt, 30)

    def delete_all(self, user_id: str, account: bool = True) -> int:
        """Delete every chat of the user, keeping the counters exact under concurrent changes
        (`account` False: a purge after the account is gone, with no account counters left).

        Each transaction deletes chats that must still be as read, with their share links, and
        subtracts exactly them; if another request changed one first, the batch is read again.
        """
        deleted = 0
        while True:
            resp = self.db.chats.query(KeyConditionExpression=Key('user_id').eq(user_id), ConsistentRead=True,
                                       ProjectionExpression='chat_id, rating, reply.line_id, shares, share_v',
                                       Limit=self.DELETE_BATCH)
            batch = [plain(i) for i in resp['Items']]
            if not batch:
                return deleted
            groups: list[list[Any]] = []
            group: list[Any] = []
            size = 1  # the account update
            for chat in batch:  # as many chats a transaction as fit in its 100 items
                if group and size + self._ops_for(chat) > TRANSACTION_MAX:
                    groups.append(group)
                    group, size = [], 1
                group.append(chat)
                size += self._ops_for(chat)
            groups.append(group)
            try:
                for group in groups:
                    self.db.transact(self._delete_chats_ops(user_id, group, account))
                    deleted += len(group)
            except ConditionFailed as exc:
                if account and failed_at(exc, len(group)):
                    return deleted
                continue  # someone deleted, re-rated or shared some of these meanwhile: read again
            if 'LastEvaluatedKey' not in resp:  # that was all of them
                return deleted
