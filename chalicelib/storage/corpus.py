"""The chatbot's corpus lines and their version."""
from typing import Any

from boto3.dynamodb.conditions import Key

from chalicelib.storage.dynamo import plain
from chalicelib.storage.layout import CORPUS, Layout


class Corpus(Layout):
    # -- corpus -----------------------------------------------------------------------------
    def corpus_version(self) -> int:
        return self._counter('corpus')

    def corpus_line(self, line_id: str) -> dict[str, Any] | None:
        item = self.quotes.get_item(Key={'pk': CORPUS, 'sk': line_id}).get('Item')
        return plain(item) if item else None

    def corpus_lines(self) -> list[dict[str, Any]]:
        return [plain(i) for i in self._query_all(self.quotes, KeyConditionExpression=Key('pk').eq(CORPUS))]

    def put_corpus_lines(self, lines: list[dict[str, Any]]) -> None:
        """Write lines keyed by their own id (rewriting one is harmless), then bump the version."""
        with self.quotes.batch_writer() as batch:
            for line in lines:
                batch.put_item(Item=dict(line, pk=CORPUS, sk=line['id']))
        self.client.transact_write_items(TransactItems=[self._counter_update('corpus', 1)])

    def delete_corpus_lines(self, line_ids: list[str]) -> None:
        with self.quotes.batch_writer() as batch:
            for line_id in line_ids:
                batch.delete_item(Key={'pk': CORPUS, 'sk': line_id})
        self.client.transact_write_items(TransactItems=[self._counter_update('corpus', 1)])

