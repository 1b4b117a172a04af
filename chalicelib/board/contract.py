"""The board's contract: a proposal's fields (a line's, from the chatbot's contract, and a title)
and the shapes it answers with (core/contract.py)."""
from chalicelib.chat.contract import DESCRIPTION, QUOTE, SCENE, SPEAKER
from chalicelib.core import contract as c
from chalicelib.core.contract import BOOLEAN, ID, TIMESTAMP, Field, Schema, Shape, Text, nullable, ref, string

TITLE = Text(100)
# A proposal's fields as POST and PUT send them; the first three are required to create one.
FIELDS: dict[str, Field] = {'title': TITLE, 'content': QUOTE, 'description': DESCRIPTION, 'scene': SCENE,
                            'speaker': SPEAKER}
REQUIRED = ('title', 'content', 'description')

c.labels({'title': '제목', 'content': '내용', 'description': '설명', 'scene': '회차', 'speaker': '화자'})


def _request_props() -> dict[str, Schema]:
    return {name: spec.schema() if name in REQUIRED else nullable(spec.schema()) for name, spec in FIELDS.items()}


CREATE: Schema = c.object_of(_request_props(), REQUIRED)
UPDATE: Schema = dict(c.object_of(_request_props(), (), 'Only the fields sent change; scene and speaker may be '
                                                           'set to null.'), minProperties=1)

AUTHOR = Shape('QuoteAuthor', {
    'pk': ID, 'nickname': string(1, 30),  # the account's nickname (accounts/contract.py)
    'email': string(1, description='masked (jm***@gmail.com) unless it is the caller\'s own')})
PROPOSAL = Shape('Quote', dict(
    {'id': ID, 'user': nullable(ref('QuoteAuthor'))}, **_request_props(),
    is_apply=BOOLEAN, created_at=TIMESTAMP, updated_at=TIMESTAMP, applied_at=nullable(TIMESTAMP)), links=True)
