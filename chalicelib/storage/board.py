"""The quote request board: proposals, their counters, applying one into the corpus."""
import contextlib
from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.storage.corpus import line_of
from chalicelib.storage.dynamo import ConditionFailed, Partition, plain, set_expression
from chalicelib.storage.layout import BOARD, CORPUS, META, Layout, board_line_id
from chalicelib.storage.records import Proposal, User


class Board(Layout):
    # -- quote board ------------------------------------------------------------------------
    def put_proposal(self, proposal: Proposal) -> None:
        """Save a proposal and count it; ConditionFailed if the author's account is gone."""
        self._transact([
            {'Put': {'TableName': self.cfg.quotes_table,
                     'Item': dict(proposal, pk=BOARD, sk=proposal['id'], owner=proposal['user_id']),
                     'ConditionExpression': 'attribute_not_exists(sk)'}},
            {'ConditionCheck': {'TableName': self.cfg.users_table, 'Key': {'pk': 'USER#' + proposal['user_id']},
                                'ConditionExpression': 'attribute_exists(pk)'}},
            self._counter_update('board', 1),
        ])

    def get_proposal(self, quote_id: str) -> Proposal | None:
        item = self.quotes.get_item(Key={'pk': BOARD, 'sk': quote_id}, ConsistentRead=True).get('Item')
        return plain(item) if item else None

    def proposals(self) -> Partition:
        return Partition(self.quotes, 'pk', BOARD, 'sk')

    def proposal_count(self) -> int:
        return self._counter('board')

    def users_and_board_count(self, user_ids: Iterable[str]) -> tuple[dict[str, User], int]:
        """Those accounts and the board's proposal count, in one BatchGetItem."""
        found = self._batch_get({self.cfg.users_table: [{'pk': 'USER#' + i} for i in sorted(set(user_ids))],
                                 self.cfg.quotes_table: [{'pk': META, 'sk': 'board'}]})
        counter = found[self.cfg.quotes_table]
        return ({u['id']: u for u in found[self.cfg.users_table]},
                max(0, int(counter[0]['value'])) if counter else 0)

    def user_and_proposal(self, user_id: str, quote_id: str) -> tuple[User | None, Proposal | None]:
        """An account and a proposal, in one BatchGetItem."""
        found = self._batch_get({self.cfg.users_table: [{'pk': 'USER#' + user_id}],
                                 self.cfg.quotes_table: [{'pk': BOARD, 'sk': quote_id}]})
        users, quotes = found[self.cfg.users_table], found[self.cfg.quotes_table]
        return (users[0] if users else None), (quotes[0] if quotes else None)

    def put_proposals_bulk(self, proposals: list[dict[str, Any]]) -> None:
        """Seed many proposals at once (benchmarks, migrations): batch writes, then one counter update."""
        with self.quotes.batch_writer() as batch:
            for q in proposals:
                batch.put_item(Item=dict(q, pk=BOARD, sk=q['id'], owner=q['user_id']))
        self.client.transact_write_items(TransactItems=[self._counter_update('board', len(proposals))])

    def proposal_ids_of(self, user_id: str) -> list[str]:
        return [i['sk'] for i in self._query_all(self.quotes, IndexName='by_owner',
                                                 KeyConditionExpression=Key('owner').eq(user_id))]

    def update_proposal(self, quote_id: str, fields: dict[str, Any], unapplied_only: bool = False) -> Proposal:
        cond = Attr('sk').exists()
        if unapplied_only:
            cond = cond & Attr('is_apply').eq(False)
        try:
            resp = self.quotes.update_item(Key={'pk': BOARD, 'sk': quote_id}, ConditionExpression=cond,
                                           ReturnValues='ALL_NEW', **set_expression(fields))
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed(quote_id) from None
        return plain(resp['Attributes'])

    def anonymize_proposal(self, quote_id: str) -> None:
        # deleted meanwhile: nothing left to anonymize
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.quotes.update_item(Key={'pk': BOARD, 'sk': quote_id}, ConditionExpression='attribute_exists(sk)',
                                    UpdateExpression='REMOVE #o, user_id', ExpressionAttributeNames={'#o': 'owner'})

    def delete_proposal(self, quote_id: str, applied: bool) -> None:
        """Delete a proposal, and its corpus line if it was applied."""
        ops = [{'Delete': {'TableName': self.cfg.quotes_table, 'Key': {'pk': BOARD, 'sk': quote_id},
                           'ConditionExpression': 'attribute_exists(sk) AND is_apply = :a',
                           'ExpressionAttributeValues': {':a': applied}}},
               self._counter_update('board', -1)]
        if not applied:
            self._transact(ops)
            return
        ops.append({'Delete': {'TableName': self.cfg.quotes_table,
                               'Key': {'pk': CORPUS, 'sk': board_line_id(quote_id)}}})
        self._corpus_change([], [board_line_id(quote_id)], ops)

    def set_applied(self, quote_id: str, seen_updated_at: str, line: dict[str, Any] | None,
                    at: str | None) -> None:
        """Apply (`line` joins the corpus) or withdraw (line None: it leaves), atomically.

        Conditioned on the proposal being unchanged since it was read (`seen_updated_at`), so
        an edit racing the apply cannot leave the board and the corpus saying different things.
        """
        line_key = {'pk': CORPUS, 'sk': board_line_id(quote_id)}
        applied = line is not None
        corpus_op = ({'Put': {'TableName': self.cfg.quotes_table, 'Item': dict(line, id=line_key['sk'], **line_key)}}
                     if applied else {'Delete': {'TableName': self.cfg.quotes_table, 'Key': line_key}})
        update = {'TableName': self.cfg.quotes_table, 'Key': {'pk': BOARD, 'sk': quote_id},
                  'ConditionExpression': 'updated_at = :seen AND is_apply = :was',
                  'UpdateExpression': 'SET is_apply = :a, applied_at = :t',
                  'ExpressionAttributeValues': {':a': applied, ':t': at, ':seen': seen_updated_at, ':was': not applied}}
        put = [line_of(corpus_op['Put']['Item'])] if applied else []
        self._corpus_change(put, [] if applied else [line_key['sk']], [{'Update': update}, corpus_op])

