"""The quote request board: proposals, their counters, applying one into the corpus."""
import contextlib
from collections.abc import Iterable
from typing import Any, cast

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.storage import keys
from chalicelib.storage.corpus import Corpus, line_of
from chalicelib.storage.counters import Counters
from chalicelib.storage.dynamo import ConditionFailed, Dynamo, Partition, plain, set_expression
from chalicelib.storage.records import Proposal, User


def board_line_id(quote_id: str) -> str:
    """The corpus line an applied proposal becomes."""
    return 'board-' + quote_id


class Board:
    def __init__(self, db: Dynamo, counters: Counters, corpus: Corpus):
        self.db, self.counters, self.corpus = db, counters, corpus

    def put(self, proposal: Proposal) -> None:
        """Save a proposal and count it; ConditionFailed if the author's account is gone."""
        self.db.transact([
            {'Put': {'TableName': self.db.cfg.quotes_table,
                     'Item': dict(proposal, **keys.proposal(proposal['id']), owner=proposal['user_id']),
                     'ConditionExpression': 'attribute_not_exists(sk)'}},
            {'ConditionCheck': {'TableName': self.db.cfg.users_table, 'Key': keys.user(proposal['user_id']),
                                'ConditionExpression': 'attribute_exists(pk)'}},
            self.counters.move('board', 1),
        ])

    def get(self, quote_id: str) -> Proposal | None:
        item = self.db.quotes.get_item(Key=keys.proposal(quote_id), ConsistentRead=True).get('Item')
        return plain(item) if item else None

    def proposals(self) -> Partition:
        return Partition(self.db.quotes, 'pk', keys.BOARD, 'sk')

    def users_and_count(self, user_ids: Iterable[str]) -> tuple[dict[str, User], int]:
        """Those accounts and the board's proposal count, in one BatchGetItem."""
        cfg = self.db.cfg
        found = self.db.batch_get({cfg.users_table: [keys.user(i) for i in sorted(set(user_ids))],
                                   cfg.quotes_table: [keys.meta('board')]})
        counter = found[cfg.quotes_table]
        return ({u['id']: cast(User, u) for u in found[cfg.users_table]},
                max(0, int(counter[0]['value'])) if counter else 0)

    def user_and_proposal(self, user_id: str, quote_id: str) -> tuple[User | None, Proposal | None]:
        """An account and a proposal, in one BatchGetItem."""
        cfg = self.db.cfg
        found = self.db.batch_get({cfg.users_table: [keys.user(user_id)], cfg.quotes_table: [keys.proposal(quote_id)]})
        users, quotes = found[cfg.users_table], found[cfg.quotes_table]
        return (cast(User, users[0]) if users else None), (cast(Proposal, quotes[0]) if quotes else None)

    def put_bulk(self, proposals: list[dict[str, Any]]) -> None:
        """Seed many proposals at once (benchmarks, migrations): batch writes, then one counter update."""
        with self.db.quotes.batch_writer() as batch:
            for q in proposals:
                batch.put_item(Item=dict(q, **keys.proposal(q['id']), owner=q['user_id']))
        self.db.client.transact_write_items(TransactItems=[self.counters.move('board', len(proposals))])

    def ids_of(self, user_id: str) -> list[str]:
        return [i['sk'] for i in self.db.query_all(self.db.quotes, IndexName='by_owner',
                                                   KeyConditionExpression=Key('owner').eq(user_id))]

    def update(self, quote_id: str, fields: dict[str, Any], unapplied_only: bool = False) -> Proposal:
        cond = Attr('sk').exists()
        if unapplied_only:
            cond = cond & Attr('is_apply').eq(False)
        try:
            resp = self.db.quotes.update_item(Key=keys.proposal(quote_id), ConditionExpression=cond,
                                              ReturnValues='ALL_NEW', **set_expression(fields))
        except self.db.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(quote_id) from None
        return plain(resp['Attributes'])

    def anonymize(self, quote_id: str) -> None:
        # deleted meanwhile: nothing left to anonymize
        with contextlib.suppress(self.db.client.exceptions.ConditionalCheckFailedException):
            self.db.quotes.update_item(Key=keys.proposal(quote_id), ConditionExpression='attribute_exists(sk)',
                                       UpdateExpression='REMOVE #o, user_id', ExpressionAttributeNames={'#o': 'owner'})

    def delete(self, quote_id: str, applied: bool) -> None:
        """Delete a proposal, and its corpus line if it was applied."""
        ops = [{'Delete': {'TableName': self.db.cfg.quotes_table, 'Key': keys.proposal(quote_id),
                           'ConditionExpression': 'attribute_exists(sk) AND is_apply = :a',
                           'ExpressionAttributeValues': {':a': applied}}},
               self.counters.move('board', -1)]
        if not applied:
            self.db.transact(ops)
            return
        ops.append({'Delete': {'TableName': self.db.cfg.quotes_table, 'Key': keys.line(board_line_id(quote_id))}})
        self.corpus.change([], [board_line_id(quote_id)], ops)

    def set_applied(self, quote_id: str, seen_updated_at: str, line: dict[str, Any] | None,
                    at: str | None) -> None:
        """Apply (`line` joins the corpus) or withdraw (line None: it leaves), atomically.

        Conditioned on the proposal being unchanged since it was read (`seen_updated_at`), so
        an edit racing the apply cannot leave the board and the corpus saying different things.
        """
        t, line_key = self.db.cfg.quotes_table, keys.line(board_line_id(quote_id))
        applied = line is not None
        item = dict(line or {}, id=line_key['sk'], **line_key)
        corpus_op = ({'Put': {'TableName': t, 'Item': item}} if applied
                     else {'Delete': {'TableName': t, 'Key': line_key}})
        update = {'TableName': t, 'Key': keys.proposal(quote_id),
                  'ConditionExpression': 'updated_at = :seen AND is_apply = :was',
                  'UpdateExpression': 'SET is_apply = :a, applied_at = :t',
                  'ExpressionAttributeValues': {':a': applied, ':t': at, ':seen': seen_updated_at, ':was': not applied}}
        put = [line_of(item)] if applied else []
        self.corpus.change(put, [] if applied else [line_key['sk']], [{'Update': update}, corpus_op])

