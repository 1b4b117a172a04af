"""The shipped corpus (data checked like code: schema, sources, no line twice, coverage), the
import checks and local retrieval (BM25F and the lexicon), all without a server; loading it and
answering with it: tests/test_corpus.py."""
import json
import os
import re
from collections import Counter
from difflib import SequenceMatcher
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from chalicelib.chat import corpus

EVERYDAY_TAGS = {'차였다', '이별', '금수저', '뇌물', '배신', '내부고발', '퇴사', '시험', '면접'}
FIELDS = {'id', 'scene', 'speaker', 'quote', 'wording', 'description', 'tags', 'sources'}
PRESS_FILE = os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'data', 'press_domains.txt')

# One address for the copies of one page. Hosts: www./m./mobile. prefixes go, and a mirror host
# becomes the host it mirrors. Paths: AMP segments and suffixes go. Queries: tracking and AMP
# parameters go. Sites that give one article several address shapes get one canonical shape.
MIRRORS = {'mosen.mt.co.kr': 'osen.co.kr', 'news.zumst.com': 'news.zum.com',
           'sbsfune.sbs.co.kr': 'ent.sbs.co.kr', 'msportalkorea.mt.co.kr': 'sportalkorea.com',
           'celuvmedia.com': 'theceluv.com'}
NOISE_PARAMS = {'amp', 'cooper', 'plink', 'cm', 'r', 'thumb', 't', 'outurl', 'ext', 'view', 'liststyle'}
ARTICLE_SHAPES = [  # (host, where the article number is, canonical path)
    ('xportsnews.com', r'(?:entry_id=|/article(?:_nview)?/)(\d+)', '/article/{}'),
    ('ent.sbs.co.kr', r'article_id=(E\d+)', '/article/{}'),
    ('news1.kr', r'(\d{6,})', '/articles/{}'),
    ('joynews24.com', r'/(?:v|view)/(?:[a-z]+/)?(\d+)', '/view/{}'),
    ('news.zum.com', r'/articles/(\d+)', '/articles/{}'),  # with or without the title slug
]


def address(url):
    parts = urlsplit(url.strip())
    host = re.sub(r'^(?:www\d*|m|mobile)\.', '', (parts.hostname or '').lower())
    host = MIRRORS.get(host, host)
    path = parts.path.lower()
    path = re.sub(r'/amp(?=/)|[-_]amp(?=[./])|(?<=/)amp(?=view)|(?<=view)amp(?=\.)', '', path)
    query = urlencode(sorted((k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if k.lower() not in NOISE_PARAMS))
    for site, where, shape in ARTICLE_SHAPES:
        found = re.search(where, f'{path}?{parts.query}', re.IGNORECASE) if host == site else None
        if found:
            return host + shape.format(found.group(1))
    return host + path.rstrip('/') + (f'?{query}' if query else '')


def press_domains():
    with open(PRESS_FILE, encoding='utf-8') as f:
        return {line.strip() for line in f if line.strip() and not line.startswith('#')}


def is_press(url, domains):
    host = (urlsplit(url).hostname or '').lower()
    return any(host == d or host.endswith('.' + d) for d in domains)


@pytest.fixture(scope='module')
def shipped():
    return corpus.shipped_lines()


# -- the corpus file -------------------------------------------------------------------------
def test_every_shipped_record_is_well_formed_and_cited(shipped):
    with open(corpus.SHIPPED_FILE, encoding='utf-8') as f:
        raw = [json.loads(line) for line in f if line.strip()]
    assert len(raw) == len(shipped) >= 80
    for record in raw:
        assert set(record) == FIELDS, record['id']
        assert all(record[f] not in (None, '', []) for f in FIELDS), record['id']
        assert record['wording'] in corpus.WORDINGS, record['id']
        assert record['id'].startswith(f"e{record['scene']:02}-"), record['id']
        assert record['sources'] and all(u.startswith(('https://', 'http://')) for u in record['sources']), record['id']
        assert 5 <= len(record['tags']) <= 20 and len(set(record['tags'])) == len(record['tags']), record['id']
        assert len(record['description']) <= 300, record['id']


def test_every_line_has_a_press_source(shipped):
    domains = press_domains()
    assert not [ln['id'] for ln in shipped if not any(is_press(u, domains) for u in ln['sources'])]


def test_fan_and_community_pages_are_not_press():
    domains = press_domains()
    fans = ['https://daying.tistory.com/89', 'https://theqoo.net/square/1278397536', 'https://bokgilism.com/263',
            'https://namu.wiki/w/x', 'https://info.goandroidtips.com/entry/x']
    assert not [u for u in fans if is_press(u, domains)]
    assert is_press('http://mosen.mt.co.kr/article/G1', domains) and not is_press('https://notmt.co.kr/x', domains)


def test_no_line_cites_one_page_twice_not_even_as_a_mobile_or_amp_copy(shipped):
    twice = {ln['id']: ln['sources'] for ln in shipped
             if len({address(u) for u in ln['sources']}) < len(ln['sources'])}
    assert twice == {}


@pytest.mark.parametrize('copies', [
    ['https://www.slist.kr/news/articleView.html?idxno=1', 'http://m.slist.kr/news/articleView.html?idxno=1'],
    ['http://mosen.mt.co.kr/article/G1', 'http://www5.osen.co.kr/article/G1', 'http://osen.co.kr/article/G1'],
    ['https://xportsnews.com/?ac=article_view&entry_id=7', 'https://www.xportsnews.com/article/7',
     'https://xportsnews.com/article_nview/7'],
    ['https://ent.sbs.co.kr/amp/article.do?article_id=E1', 'https://ent.sbs.co.kr/news/article.do?article_id=E1',
     'http://sbsfune.sbs.co.kr/news/news_content.jsp?article_id=E1&cooper=SBSENTERNEWS&plink=REL'],
    ['https://insight.co.kr/news/5', 'https://insight.co.kr/amp/news/5'],
    ['https://www.topstarnews.net/news/articleViewAmp.html?idxno=3', 'http://topstarnews.net/news/articleView.html?idxno=3'],
    ['https://cm.asiae.co.kr/ampview.htm?no=9', 'https://cm.asiae.co.kr/view.htm?no=9'],
    ['http://news.zumst.com/articles/4?cm=popular', 'https://news.zum.com/articles/4'],
    ['https://m.news1.kr/articles/?3819806?view=m', 'http://news1.kr/articles/?3819806'],
    ['https://joynews24.com/view/wrlted/12', 'http://m.joynews24.com/v/12'],
    ['https://m.news.zum.com/articles/56889244/%EC%8A%A4', 'https://news.zum.com/articles/56889244'],
    ['https://example.com/a?id=1&amp=1', 'https://example.com/a?id=1'],
])
def test_copies_of_one_page_share_an_address(copies):
    assert len({address(u) for u in copies}) == 1, [address(u) for u in copies]


def test_different_pages_keep_different_addresses():
    pages = ['https://xportsnews.com/article/1221767', 'https://www.xportsnews.com/article/1221785',
             'http://www.slist.kr/news/articleView.html?idxno=135589', 'http://www.slist.kr/news/articleView.html?idxno=135590',
             'https://news.zum.com/articles/56890498', 'https://news.zum.com/articles/56889332']
    assert len({address(u) for u in pages}) == len(pages)


def test_no_line_twice_not_even_worded_differently(shipped):
    squash = [''.join(ch for ch in ln['quote'] if ch.isalnum()) for ln in shipped]
    near = [(a['id'], b['id']) for i, a in enumerate(shipped) for j, b in enumerate(shipped)
            if i < j and SequenceMatcher(None, squash[i], squash[j]).ratio() > 0.7]
    assert near == []
    assert len({ln['id'] for ln in shipped}) == len(shipped)


def test_every_episode_and_many_speakers_are_present(shipped):
    assert {ln['scene'] for ln in shipped} == set(range(1, corpus.EPISODES + 1))
    speakers = Counter(ln['speaker'] for ln in shipped)
    assert len(speakers) >= 8, speakers


def test_everyday_situation_words_are_covered(shipped):
    tags = {t for ln in shipped for t in ln['tags']}
    assert tags >= EVERYDAY_TAGS, EVERYDAY_TAGS - tags


@pytest.mark.parametrize('record, message', [
    ({'id': 'Bad Id'}, 'id:'),
    ({'sources': 'https://example.com'}, 'sources:'),
    ({'sources': ['ftp://example.com/x']}, 'sources:'),
    ({'sources': [f'https://example.com/{i}' for i in range(6)]}, 'sources:'),
    ({'wording': 'fan'}, 'wording:'),
    ({'wording': ''}, 'wording:'),
])
def test_import_refuses_bad_ids_sources_and_wording(record, message):
    good = {'scene': 1, 'speaker': '백승수', 'quote': '대사', 'description': '설명'}
    with pytest.raises(corpus.CorpusError, match=message):
        corpus.validate_line(dict(good, **record))


def test_the_wording_is_optional_and_kept_as_given():
    good = {'scene': 1, 'speaker': '백승수', 'quote': '대사', 'description': '설명'}
    assert 'wording' not in corpus.validate_line(good)
    for wording in corpus.WORDINGS:
        assert corpus.validate_line(dict(good, wording=wording))['wording'] == wording


def test_an_id_used_twice_in_one_file_is_refused():
    line = json.dumps({'id': 'e01-x', 'scene': 1, 'speaker': '백승수', 'quote': '대사', 'description': '설명'})
    with pytest.raises(corpus.CorpusError, match='2번째 줄'):
        corpus.parse_jsonl(line + '\n' + line.replace('대사', '다른 대사'), 'import')


# -- local retrieval ---------------------------------------------------------------------------
def _line(line_id, quote, tags, description='설명'):
    return dict(id=line_id, scene=1, speaker='인물', quote=quote, description=description, tags=tags)


def test_particles_and_endings_do_not_change_what_a_word_matches():
    assert corpus.terms('돈봉투를') == corpus.terms('돈봉투') == corpus.terms('돈봉투가')
    assert corpus.terms('무서워요') == corpus.terms('무서워')
    index = corpus.Index([_line('a-envelope', '돈봉투', ['돈봉투']), _line('b-pie', '봉투를 접는다', ['종이접기'])])
    assert [ln['id'] for _, ln in index.search('돈봉투를 받았어요')][0] == 'a-envelope'


def test_the_lexicon_finds_a_wording_anywhere_with_or_without_spaces():
    def meanings(text):
        return sorted(' '.join(corpus.situations(text)).split())
    assert '이별' in meanings('어제 차였어요')
    assert '이별' in meanings('헤어 졌어')  # spaced oddly
    assert '연애' in meanings('썸')  # a one-character wording, alone
    # the lookup by first characters finds what checking every wording finds
    for text in ('팀장이 소리 지르고 갑질해요', '돈 받고 봐달라는 거래처', '썸 타다 차임', 'ㅋㅋ 그냥 그래요', ''):
        squashed = ''.join(text.split())
        every = [m for v, m in corpus._LEXICON if v in text or v in squashed]
        assert meanings(text) == sorted(' '.join(every).split()), text


def test_what_the_person_wrote_outweighs_what_the_lexicon_reads_into_it():
    index = corpus.Index([_line('a-literal', '차였다', ['차였다']),
                          _line('b-concept', '헤어짐', ['이별', '실연', '헤어짐'])])
    assert [ln['id'] for _, ln in index.search('차였어')][0] == 'a-literal'


def test_an_updated_index_scores_exactly_as_one_built_from_scratch():
    shipped = corpus.shipped_lines()
    old = corpus.Index(shipped)
    edited = dict(shipped[5], tags=shipped[5]['tags'] + ['이별', '퇴사'])
    added = dict(shipped[0], id='zz-added', quote='새로 들어온 대사', tags=['면접', '시험'])
    changes = {edited['id']: edited, shipped[7]['id']: None, added['id']: added}
    patched = old.updated(changes)
    rebuilt = corpus.Index([edited if ln['id'] == edited['id'] else ln for ln in shipped
                            if ln['id'] != shipped[7]['id']] + [added])
    assert [ln['id'] for ln in patched.lines] == [ln['id'] for ln in rebuilt.lines]
    for query in ('차였어요 이별', '면접 떨어짐', '상사가 부당한 일을 시켜요', '퇴사하고 싶다', '시험'):
        assert patched.search(query, 10) == rebuilt.search(query, 10), query
    assert old.get(shipped[7]['id']) is not None and patched.get(shipped[7]['id']) is None  # the old one unchanged
