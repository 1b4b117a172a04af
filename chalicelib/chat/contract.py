"""The chatbot's contract: the fields it reads and the shapes it answers with (core/contract.py).
A line's fields and limits are here too: the board and what people keep show lines."""
from chalicelib.core.contract import BOOLEAN, ID, TIMESTAMP, Integer, Shape, Text, labels, nullable, ref, string

EPISODES = 16  # 스토브리그 ran for 16 episodes

# -- a line of the corpus: its fields, as a request sends them ---------------------------------------
QUOTE = Text(500, multiline=True)
DESCRIPTION = Text(1000, multiline=True)
SPEAKER = Text(30)
SCENE = Integer(1, EPISODES, description=f'episode of 스토브리그 (1..{EPISODES})')
SOURCES = {'type': 'array', 'items': string(1),
           'description': 'where the line\'s wording, speaker and episode were confirmed'}

# -- the chatbot's own fields -------------------------------------------------------------------------
INPUT = Text(1000, multiline=True, description='how the person feels or what happened')
EXCLUDE_MAX, LINE_ID_MAX = 50, 100  # `exclude`: line ids already shown for this input
SEARCH = Text(100, min_len=0)
SEARCH_WORDS = 5
RATING = {'type': 'integer', 'enum': [-1, 0, 1], 'description': '👍 1, 👎 -1, none 0'}

labels({'input': '입력', 'exclude': '제외할 대사', 'content': '내용', 'chat_reply': '답변', 'q': '검색어',
        'description': '설명', 'scene': '회차', 'speaker': '화자'})

# -- what it answers with ------------------------------------------------------------------------------
LINE = Shape('Line', {'id': string(1), 'scene': nullable(SCENE.schema()), 'speaker': string(1),
                      'quote': string(1), 'description': string(1), 'sources': SOURCES})
CHAT_REPLY = Shape('ChatReply', {
    'id': ID, 'user': ID, 'quote': string(1), 'description': string(1), 'scene': nullable(SCENE.schema()),
    'speaker': nullable(string(1)), 'created_at': TIMESTAMP, 'line_id': nullable(string(1)), 'sources': SOURCES,
    'source': nullable({'type': 'string', 'enum': ['openai', 'local', 'client'],
                        'description': 'what answered; `client` for an exchange saved by POST /chat/model'}),
    'grounded': BOOLEAN, 'rating': RATING,
}, required=['id', 'user', 'quote', 'description', 'scene', 'speaker', 'created_at'])
CHAT_FIELDS = {'id': ID, 'user': ID, 'content': string(1), 'created_at': TIMESTAMP, 'chat_reply': ref('ChatReply')}
CHAT = Shape('Chat', CHAT_FIELDS, required=['id', 'user', 'content', 'created_at', 'chat_reply', '_links'],
             links=True)
