"""What people keep, in the contract: the fields they send and what they get back (core/contract.py)."""
from chalicelib.chat.contract import LINE, SCENE
from chalicelib.core.contract import BOOLEAN, ID, TIMESTAMP, Shape, described, integer, labels, nullable, ref, string

SHARE_ID = string(24, 24, description='unguessable (144 random bits), URL-safe')

labels({'value': '평가', 'include_input': '질문 포함 여부', 'format': '형식', 'sort': '정렬'})

BOOKMARK = Shape('Bookmark', {'line': described(ref(LINE.name), 'the line as it was when kept'),
                              'times_given': integer(0, description='how often the bot gave the caller this line'),
                              'created_at': TIMESTAMP}, links=True)
CARD = Shape('Card', {'scene': nullable(SCENE.schema()), 'speaker': nullable(string(1)), 'quote': string(1)})
SHARE = Shape('Share', {'id': SHARE_ID, 'chat_id': ID, 'created_at': TIMESTAMP, 'include_input': BOOLEAN,
                        'card': CARD.schema()}, links=True)
