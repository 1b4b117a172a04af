"""Take it with you: every chat and bookmark of the caller, as JSON or CSV, in parts.

A part holds at most 1,000 chats and stays under PART_BYTES, well inside the 6 MB a Lambda
may answer, so 10,000 chats are ten requests of one bounded Query each; a cursor names where
the next part starts. Bookmarks (at most one per corpus line) come whole in the first part.
"""
import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from chalicelib import storage
from chalicelib.chat import chats
from chalicelib.core.errors import BadRequest, ValidationError
from chalicelib.core.pagination import AFTER, Cursor, decode_cursor, encode_cursor
from chalicelib.core.principal import Principal
from chalicelib.keep import bookmarks

FORMATS = ('json', 'csv')
PART_CHATS = 1000
PART_BYTES = 4_500_000  # of the body; Lambda's limit is 6 MB with headers and envelope
CSV_COLUMNS = ['type', 'id', 'created_at', 'input', 'scene', 'speaker', 'quote', 'description', 'line_id',
               'sources', 'source', 'rating', 'times_given']
BOM = '\ufeff'  # so Excel reads the file as UTF-8 and shows Korean


@dataclass
class Part:
    fmt: str
    number: int
    chats: list[dict[str, Any]]
    bookmarks: list[dict[str, Any]]
    next_cursor: str | None


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(',', ':')).encode('utf-8')) + 1


def _safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and value[:1] in ('=', '+', '-', '@', '\t', '\r'):
        return "'" + value
    return value


def _chat_row(c: dict[str, Any]) -> list[Any]:
    r = c['chat_reply']
    return ['chat', c['id'], c['created_at'], c['content'], r['scene'], r['speaker'], r['quote'], r['description'],
            r['line_id'], ' '.join(r['sources']), r['source'], r['rating'], '']


def _bookmark_row(b: dict[str, Any]) -> list[Any]:
    line = b['line']
    return ['bookmark', line['id'], b['created_at'], '', line['scene'], line['speaker'], line['quote'],
            line['description'], line['id'], ' '.join(line['sources']), '', '', b['times_given']]


def _csv_lines(rows: list[list[Any]]) -> list[str]:
    out = []
    for row in rows:
        buf = io.StringIO()
        csv.writer(buf, lineterminator='\r\n').writerow([_safe_cell(v) for v in row])
        out.append(buf.getvalue())
    return out


def part(principal: Principal, fmt: str | None, cursor: str | None) -> Part:
    fmt = (fmt or 'json').lower()
    if fmt not in FORMATS:
        raise ValidationError({'format': 'json 또는 csv여야 합니다.'})
    after, number = None, 1
    if cursor:
        c = decode_cursor(cursor)
        if c.kind != AFTER:
            raise BadRequest('cursor 값이 올바르지 않습니다.')
        after, number = c.key, c.page
    got = storage.store().chats.of(principal.user_id).page(PART_CHATS + 1, after)
    items, more_after = got[:PART_CHATS], (got[PART_CHATS - 1]['chat_id'] if len(got) > PART_CHATS else None)
    shaped = [chats.shape(c) for c in items]
    kept = bookmarks.every(principal) if number == 1 else []
    if fmt == 'json':
        used, sizes = 200 + sum(_json_size(b) for b in kept), [_json_size(c) for c in shaped]
    else:
        used = sum(len(ln.encode('utf-8')) for ln in _csv_lines([CSV_COLUMNS] + [_bookmark_row(b) for b in kept]))
        sizes = [len(ln.encode('utf-8')) for ln in _csv_lines([_chat_row(c) for c in shaped])]
    taken = 0
    for size in sizes:  # at least one chat a part, so an export always moves on
        if taken and used + size > PART_BYTES:
            break
        used += size
        taken += 1
    next_after = items[taken - 1]['chat_id'] if taken < len(items) else more_after
    return Part(fmt, number, shaped[:taken], kept,
                encode_cursor(Cursor(AFTER, number + 1, next_after)) if next_after else None)


def to_csv(p: Part) -> str:
    rows = [CSV_COLUMNS] + [_bookmark_row(b) for b in p.bookmarks] + [_chat_row(c) for c in p.chats]
    return BOM + ''.join(_csv_lines(rows))


def filename(p: Part) -> str:
    return f'stove-league-export-{p.number}.{p.fmt}'
