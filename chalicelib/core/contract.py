"""The HTTP contract, declared once per feature (chalicelib/<feature>/contract.py): each field's
limits and its label in messages, and the shapes the feature answers with.

Validation (`Validator.field`), shaping (`Shape.make`, `Shape.of`) and the OpenAPI document
(tools/build_openapi.py, `schema()`) all read the same declarations, so a limit or a public field
is written in one place. The schema helpers write JSON Schema (OpenAPI 3.1) fragments.
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.core import errors

Schema = dict[str, Any]


# -- JSON Schema fragments ------------------------------------------------------------------------
def ref(name: str) -> Schema:
    return {'$ref': '#/components/schemas/' + name}


def obj(required: Sequence[str] = (), doc: str | None = None, **props: Schema) -> Schema:
    """An object with these properties; `required` may name '*' for all of them. Extra properties
    are allowed: clients must ignore fields they do not know, so adding one is not a break."""
    return object_of(props, required, doc)


def object_of(props: dict[str, Schema], required: Sequence[str] = (), doc: str | None = None) -> Schema:
    """`obj` of a dict of properties."""
    names = list(props) if list(required) == ['*'] else list(required)
    out: Schema = {'type': 'object', 'properties': props, 'required': names}
    if doc:
        out['description'] = doc
    return out


def string(min_len: int = 0, max_len: int | None = None, description: str | None = None, **extra: Any) -> Schema:
    out: Schema = {'type': 'string'}
    if min_len:
        out['minLength'] = min_len
    if max_len is not None:
        out['maxLength'] = max_len
    if description:
        out['description'] = description
    out.update(extra)
    return out


def integer(minimum: int | None = None, maximum: int | None = None, description: str | None = None) -> Schema:
    out: Schema = {'type': 'integer'}
    if minimum is not None:
        out['minimum'] = minimum
    if maximum is not None:
        out['maximum'] = maximum
    if description:
        out['description'] = description
    return out


def nullable(schema: Schema) -> Schema:
    if '$ref' in schema:
        return {'anyOf': [schema, {'type': 'null'}]}
    return dict(schema, type=[schema['type'], 'null'])


def described(schema: Schema, description: str) -> Schema:
    return dict(schema, description=description)


BOOLEAN: Schema = {'type': 'boolean'}
TIMESTAMP = string(format='date-time', description='ISO 8601 with an offset')
ID = string(1, 64, description='opaque id (time-ordered)')


# -- fields: what a request may send ---------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """A text field: `min_len`..`max_len` characters once stripped (`strip=False`: as sent, e.g. a
    password); `multiline` allows line breaks and tabs."""
    max_len: int
    min_len: int = 1
    multiline: bool = False
    strip: bool = True
    description: str | None = None

    def schema(self, description: str | None = None) -> Schema:
        return string(self.min_len, self.max_len, description or self.description)


@dataclass(frozen=True)
class Integer:
    lo: int
    hi: int
    description: str | None = None

    def schema(self, description: str | None = None) -> Schema:
        return integer(self.lo, self.hi, description or self.description)


Field = Text | Integer


def labels(by_field: Mapping[str, str]) -> None:
    """Declare fields' Korean names for validation messages (`입력값을 확인해 주세요: 제목, 내용`)."""
    errors.label_fields(by_field)


# -- shapes: what an answer holds ------------------------------------------------------------------
class Shape:
    """A public object: its properties (name → schema, in the order the document lists them),
    which are required, and whether it carries `_links` (added by the view)."""

    def __init__(self, name: str, props: Mapping[str, Schema], required: Sequence[str] = ('*',),
                 doc: str | None = None, links: bool = False):
        self.name, self.props, self.doc, self.links = name, dict(props), doc, links
        self.required = list(self.props) + (['_links'] if links else []) if list(required) == ['*'] \
            else list(required)
        self.names = frozenset(self.props)

    def schema(self) -> Schema:
        props = dict(self.props, _links=ref('Links')) if self.links else dict(self.props)
        out: Schema = {'type': 'object', 'properties': props, 'required': self.required}
        if self.doc:
            out['description'] = self.doc
        return out

    def make(self, **values: Any) -> dict[str, Any]:
        """The answer's object from its values: exactly the declared properties (a property
        added here and not declared, or the reverse, fails at once rather than drifting)."""
        if values.keys() != self.names:
            raise AssertionError(f'{self.name}: {sorted(values.keys() ^ self.names)} '
                                 'differ from its declaration')
        return values

    def of(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The declared properties of a stored item that has them under the same names (a
        missing optional one is None; a missing array, [])."""
        return {name: _value(item, name, schema) for name, schema in self.props.items()}


def _value(item: Mapping[str, Any], name: str, schema: Schema) -> Any:
    if schema.get('type') == 'array':
        return list(item.get(name) or [])
    return item.get(name)
