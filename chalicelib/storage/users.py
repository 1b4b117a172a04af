"""Accounts and their email items (the uniqueness guard, and a copy of what login needs, kept
equal in one transaction); logging in, changing and deleting an account."""
from collections.abc import Iterable
from typing import Any, cast

from chalicelib.storage import keys
from chalicelib.storage.dynamo import ConditionFailed, Dynamo, plain, set_expression
from chalicelib.storage.purges import Purges
from chalicelib.storage.records import SessionIndex, User
from chalicelib.storage.sessions import Sessions
from chalicelib.storage.throttle import GiveBack, Throttle

# The account fields the email item mirrors, so a login reads one item (kept equal in one transaction).
LOGIN_FIELDS = ('password_hash', 'nickname', 'created_at', 'is_admin')


class EmailTaken(Exception):
    pass


class Users:
    def __init__(self, db: Dynamo, sessions: Sessions, throttle: Throttle, purges: Purges):
        self.db, self.sessions, self.throttle, self.purges = db, sessions, throttle, purges

    def create(self, user: User) -> None:
        t = self.db.cfg.users_table
        try:
            self.db.transact([
                {'Put': {'TableName': t, 'Item': self._email_item(cast(dict[str, Any], user)),
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
                {'Put': {'TableName': t, 'Item': dict(user, **keys.user(user['id']), chat_count=0),
                         'ConditionExpression': 'attribute_not_exists(pk)'}},
                self.sessions.new_index_op(user['id']),
            ])
        except ConditionFailed:
            raise EmailTaken(user['email']) from None

    def get(self, user_id: str) -> User | None:
        item = self.db.users.get_item(Key=keys.user(user_id), ConsistentRead=True).get('Item')
        return plain(item) if item else None

    def get_many(self, user_ids: Iterable[str]) -> dict[str, User]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        found = self.db.batch_get({self.db.cfg.users_table: [keys.user(i) for i in ids]})
        return {u['id']: cast(User, u) for u in found[self.db.cfg.users_table]}

    def id_for_email(self, email: str) -> str | None:
        item = self.db.users.get_item(Key=keys.email(email), ConsistentRead=True).get('Item')
        return item['user_id'] if item else None

    def exists(self, user_id: str) -> bool:
        return 'Item' in self.db.users.get_item(Key=keys.user(user_id), ConsistentRead=True,
                                                ProjectionExpression='pk')

    def with_sessions(self, user_id: str) -> tuple[User | None, SessionIndex | None]:
        """The account and its session index, in one BatchGetItem."""
        cfg = self.db.cfg
        found = self.db.batch_get({cfg.users_table: [keys.user(user_id)],
                                   cfg.auth_table: [keys.session_index(user_id)]})
        users, index = found[cfg.users_table], found[cfg.auth_table]
        return (cast(User, users[0]) if users else None), (cast(SessionIndex, index[0]) if index else None)

    @staticmethod
    def _email_item(user: dict[str, Any]) -> dict[str, Any]:
        item = {k: user[k] for k in LOGIN_FIELDS if k in user}
        return dict(item, **keys.email(user['email']), user_id=user['id'])

    def update(self, user_id: str, email: str, fields: dict[str, Any]) -> None:
        """Set fields of the account and, those it mirrors (LOGIN_FIELDS), of its email item, in
        one transaction; ConditionFailed if the account is gone."""
        self.db.transact(self._updates(user_id, fields, email))

    def _updates(self, user_id: str, fields: dict[str, Any], email: str) -> list[dict[str, Any]]:
        """Transaction items setting `fields` on the account, and on the email item those it mirrors."""
        t = self.db.cfg.users_table
        ops = [{'Update': dict(set_expression(fields), TableName=t, Key=keys.user(user_id),
                               ConditionExpression='attribute_exists(pk)')}]
        mirrored = {k: v for k, v in fields.items() if k in LOGIN_FIELDS}
        if mirrored:
            mirror = set_expression(mirrored)
            values = dict(mirror['ExpressionAttributeValues'], **{':uid': user_id})
            ops.append({'Update': dict(mirror, TableName=t, Key=keys.email(email),
                                       ConditionExpression='user_id = :uid', ExpressionAttributeValues=values)})
        return ops

    def update_ending_sessions(self, user_id: str, fields: dict[str, Any], keep: str, email: str,
                               index: SessionIndex | None = None, give_back: GiveBack | None = None) -> None:
        """Change the account (and the email item's copy of it), end its other sessions (all but
        session id `keep`) and give back throttle counts, in one transaction, given the session
        `index` as read with the account (with_sessions). ConditionFailed if the account is gone."""
        ops = self._updates(user_id, fields, email) + (self.throttle.give_back_ops(give_back) if give_back else [])
        self.sessions.ending(user_id, index, ops, lambda n: self.sessions.index_set_op(user_id, [keep], n), keep=keep)

    # -- login (three calls: throttle.reserve, login_record, finish_login) ------------------
    def login_record(self, email: str) -> User | None:
        """What a login checks and answers with, from the email item alone (one GetItem);
        an email item written before it mirrored the account costs a second read."""
        item = self.db.users.get_item(Key=keys.email(email), ConsistentRead=True).get('Item')
        if not item:
            return None
        item = plain(item)
        if 'password_hash' not in item:
            user = self.get(item['user_id'])
            return cast(User, dict(user, backfill=True)) if user else None
        return cast(User, {'id': item['user_id'], 'email': email, **{k: item.get(k) for k in LOGIN_FIELDS}})

    def finish_login(self, user: User, fields: dict[str, Any], session: dict[str, Any], give_back: GiveBack) -> None:
        """One transaction: the login's fields on the account, its new session, and the
        throttle counts given back. ConditionFailed if the account was deleted or its
        password changed since `user` was read."""
        t = self.db.cfg.users_table
        update = set_expression(fields)
        ops = [{'Update': dict(update, TableName=t, Key=keys.user(user['id']),
                               ConditionExpression='attribute_exists(pk) AND password_hash = :h',
                               ExpressionAttributeValues=dict(update['ExpressionAttributeValues'],
                                                              **{':h': user['password_hash']}))},
               {'Put': {'TableName': self.db.cfg.auth_table, 'Item': self.sessions.item(user['id'], **session)}},
               self.sessions.listing_op(user['id'], session['sid'])]
        ops += self.throttle.give_back_ops(give_back)
        if user.get('backfill'):
            ops.append({'Put': {'TableName': t, 'Item': self._email_item(cast(dict[str, Any], user)),
                                'ConditionExpression': 'user_id = :u',
                                'ExpressionAttributeValues': {':u': user['id']}}})
        self.sessions.listing(ops, 2, user['id'], session['sid'])

    def delete(self, user_id: str, email: str, index: SessionIndex | None, give_back: GiveBack) -> None:
        """Delete the account, its email item and its sessions, give back the password check's
        throttle counts, and leave a purge job for what the account owned, in one transaction,
        given the session `index` read with the account. ConditionFailed if the account is
        gone already."""
        t = self.db.cfg.users_table
        ops = [{'Delete': {'TableName': t, 'Key': keys.user(user_id), 'ConditionExpression': 'attribute_exists(pk)'}},
               {'Delete': {'TableName': t, 'Key': keys.email(email)}},
               self.purges.start_op(user_id)]
        ops += self.throttle.give_back_ops(give_back)
        self.sessions.ending(user_id, index, ops, lambda n: self.sessions.index_delete_op(user_id, n))
