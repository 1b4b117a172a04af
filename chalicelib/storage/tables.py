"""The tables themselves: their definitions (the same as deploy/resources.json's), creating
and dropping them (operator work: `make run`, tools/cli.py, tests), and the health check's ping."""
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.core import settings
from chalicelib.storage import keys
from chalicelib.storage.dynamo import Dynamo


class Tables:
    def __init__(self, db: Dynamo):
        self.db = db

    @property
    def cfg(self) -> settings.Settings:
        return self.db.cfg

    def specs(self) -> list[dict[str, Any]]:
        def spec(name: str, keys: list[tuple[str, str]], extra: dict[str, Any] | None = None) -> dict[str, Any]:
            attrs = {k for k, _ in keys}
            s: dict[str, Any] = {'TableName': name, 'BillingMode': 'PAY_PER_REQUEST',
                 'KeySchema': [{'AttributeName': k, 'KeyType': t} for k, t in keys]}
            s.update(extra or {})
            for gsi in s.get('GlobalSecondaryIndexes', []):
                attrs.update(k['AttributeName'] for k in gsi['KeySchema'])
            s['AttributeDefinitions'] = [{'AttributeName': a, 'AttributeType': 'S'} for a in sorted(attrs)]
            return s
        return [
            spec(self.cfg.users_table, [('pk', 'HASH')]),
            spec(self.cfg.chats_table, [('user_id', 'HASH'), ('chat_id', 'RANGE')]),
            spec(self.cfg.quotes_table, [('pk', 'HASH'), ('sk', 'RANGE')], {'GlobalSecondaryIndexes': [{
                'IndexName': 'by_owner', 'Projection': {'ProjectionType': 'KEYS_ONLY'},
                'KeySchema': [{'AttributeName': 'owner', 'KeyType': 'HASH'},
                              {'AttributeName': 'sk', 'KeyType': 'RANGE'}]}]}),
            spec(self.cfg.auth_table, [('pk', 'HASH'), ('sk', 'RANGE')]),
        ]

    @staticmethod
    def _admin_client() -> Any:  # a boto3 DynamoDB client
        """For operator work (creating tables takes seconds): patient, unlike the request path's."""
        return boto3.client('dynamodb', config=Config(retries={'total_max_attempts': 5, 'mode': 'standard'},
                                                      connect_timeout=5, read_timeout=60))

    def create(self) -> list[str]:
        """Create missing tables (idempotent); returns the names it created."""
        admin = self._admin_client()
        existing = set(admin.list_tables()['TableNames'])
        created = []
        for s in self.specs():
            if s['TableName'] in existing:
                continue
            admin.create_table(**s)
            created.append(s['TableName'])
        for name in created:
            admin.get_waiter('table_exists').wait(TableName=name, WaiterConfig={'Delay': 1})
            if name == self.cfg.auth_table:
                admin.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    'Enabled': True, 'AttributeName': 'expires_at'})
        return created

    def drop(self) -> None:
        admin = self._admin_client()
        existing = set(admin.list_tables()['TableNames'])
        for s in self.specs():
            if s['TableName'] in existing:
                admin.delete_table(TableName=s['TableName'])

    def ping(self) -> bool:
        self.db.users.get_item(Key=keys.PING)
        return True
