"""Field checks that collect every problem, so a 400 names all bad fields at once."""
import re
import unicodedata
from typing import Any

from chalicelib.core.contract import Field, Integer
from chalicelib.core.errors import ValidationError

EMAIL_RE = re.compile(r'^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$')
# A lone UTF-16 surrogate ("\ud800" in JSON) is valid JSON but not text: it cannot be encoded
# as UTF-8, so it would break bcrypt, JWT decoding and every answer that shows it.
LONE_SURROGATE_RE = re.compile('[\ud800-\udfff]')


def parse_int(raw: str) -> int | None:
    """A plain decimal integer, or None ('²'.isdigit() is true, but int('²') fails)."""
    raw = raw.strip()
    return int(raw) if re.fullmatch(r'[0-9]{1,9}', raw) else None


class Validator:
    """Collects every field's problems; `done()` raises them at once. A field's value is None when
    it is absent or has a problem, so callers use the values only after `done()` (typed Any: a
    required field's value is then what its check let through)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.errors: dict[str, str] = {}

    def _raw(self, name: str, required: bool) -> Any | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = '필수 항목입니다.'
            return None
        return value

    def text(self, name: str, max_len: int, min_len: int = 1, required: bool = True,
             strip: bool = True, multiline: bool = False) -> Any:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.errors[name] = '문자열이어야 합니다.'
            return None
        if LONE_SURROGATE_RE.search(value):
            self.errors[name] = '올바른 유니코드 문자가 아닌 것(짝 없는 서로게이트)이 들어 있습니다.'
            return None
        if strip:
            value = value.strip()
        allowed = '\n\t' if multiline else ''
        if any(unicodedata.category(c) == 'Cc' and c not in allowed for c in value):
            self.errors[name] = '제어 문자는 쓸 수 없습니다.' if multiline else '제어 문자나 줄바꿈은 쓸 수 없습니다.'
            return None
        if len(value) < min_len:
            self.errors[name] = '비어 있을 수 없습니다.' if min_len == 1 else f'{min_len}자 이상이어야 합니다.'
        elif len(value) > max_len:
            self.errors[name] = f'{max_len}자 이하여야 합니다.'
        return value

    def email(self, name: str = 'email', max_len: int = 254) -> Any:
        value = self.text(name, max_len=max_len)
        if value is not None and name not in self.errors and not EMAIL_RE.match(value):
            self.errors[name] = '올바른 이메일 주소가 아닙니다.'
        return value.lower() if value else value

    def password(self, name: str, min_len: int, max_bytes: int, required: bool = True) -> Any:
        value = self.text(name, max_len=1000, min_len=0, required=required, strip=False)
        if value is None or name in self.errors:
            return value
        if len(value) < min_len:
            self.errors[name] = f'비밀번호는 {min_len}자 이상이어야 합니다.'
        elif len(value.encode('utf-8')) > max_bytes:
            self.errors[name] = f'비밀번호는 UTF-8로 {max_bytes}바이트 이하여야 합니다.'
        return value

    def integer(self, name: str, lo: int, hi: int, required: bool = True) -> Any:
        value = self._raw(name, required)
        if value is None:
            return None
        if isinstance(value, str) and parse_int(value) is not None:
            value = parse_int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = '정수여야 합니다.'
            return None
        if not lo <= value <= hi:
            self.errors[name] = f'{lo}에서 {hi} 사이여야 합니다.'
        return value

    def field(self, name: str, spec: Field, required: bool = True) -> Any:
        """The field as its contract declares it (core/contract.py)."""
        if isinstance(spec, Integer):
            return self.integer(name, spec.lo, spec.hi, required=required)
        return self.text(name, max_len=spec.max_len, min_len=spec.min_len, required=required, strip=spec.strip,
                         multiline=spec.multiline)

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def done(self) -> None:
        if self.errors:
            raise ValidationError(dict(self.errors))
