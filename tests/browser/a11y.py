"""Accessibility checks any browser test can call.

    assert_accessible(page, 'history: empty')   # axe-core, WCAG 2.1 A/AA (+ a few best practices)
    tab_to(page, page.get_by_role('button', name='삭제'))   # Tab until it has focus, checking each stop
    assert_focus_visible(page)                  # the focused element shows a visible, contrasting ring

axe-core comes from its npm package (package.json pins it; `make test` installs it into
node_modules/) and is injected into the page under test, so nothing is fetched from elsewhere.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / 'node_modules' / 'axe-core' / 'axe.min.js'

WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']
# Best-practice rules (not WCAG criteria in axe's tagging) that we hold ourselves to as well:
# the findings included two of them (a role an element may not have, a skipped heading).
EXTRA_RULES = ['aria-allowed-role', 'heading-order', 'page-has-heading-one', 'landmark-one-main',
               'landmark-unique', 'region', 'empty-heading', 'duplicate-id']

_RUN_AXE = '''async ([tags, extra, exclude]) => {
    // wait for CSS transitions to end: contrast measured mid-fade would be a false finding
    await Promise.all(document.getAnimations()
        .filter((a) => a.effect && a.effect.getTiming().iterations !== Infinity)
        .map((a) => a.finished.catch(() => null)));
    const context = exclude.length ? { include: [['html']], exclude: exclude.map((sel) => [sel]) } : document;
    const options = { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] };
    const wcag = await axe.run(context, options);
    const best = await axe.run(context, { runOnly: { type: 'rule', values: extra }, resultTypes: ['violations'] });
    return [...wcag.violations, ...best.violations].map((v) => ({
        id: v.id, impact: v.impact, help: v.help, tags: v.tags.filter((t) => t.startsWith('wcag')),
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 200),
                                      summary: n.failureSummary })),
    }));
}'''


def axe_violations(page, exclude=()):
    """axe-core's violations on the page as it is now (WCAG 2.1 A/AA and EXTRA_RULES), leaving
    out the parts matched by the CSS selectors in `exclude`."""
    if not page.evaluate('() => typeof window.axe === "object"'):
        if not AXE.exists():
            raise AssertionError(f'axe-core is not installed at {AXE}: run `make test` (npm ci) first')
        page.add_script_tag(path=str(AXE))
    return page.evaluate(_RUN_AXE, [WCAG_TAGS, EXTRA_RULES, list(exclude)])


def format_violations(violations, state=''):
    where = f' in "{state}"' if state else ''
    lines = [f'{len(violations)} accessibility violation(s){where}:']
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}{', ' + ' '.join(v['tags']) if v['tags'] else ''}): {v['help']}")
        for node in v['nodes'][:5]:
            lines.append('    at {}\n      {}\n      {}'.format(node['target'], node['html'],
                                                        (node['summary'] or '').replace('\n', '\n      ')))
        if len(v['nodes']) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more")
    return '\n'.join(lines)


def assert_accessible(page, state='', exclude=()):
    """Fail, listing every finding, if axe-core finds any WCAG 2.1 A/AA violation (or one of
    EXTRA_RULES) on the page as it stands. `state` names what is being checked, for the message.
    `exclude`: CSS selectors of third-party widgets we do not write (say why where you use it)."""
    violations = axe_violations(page, exclude)
    assert not violations, format_violations(violations, state) + f'\n  page: {page.url}'


# -- keyboard and focus ----------------------------------------------------------------------------
_FOCUS_RING = '''() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { error: 'nothing has focus' };
    const parse = (c) => { const m = c.match(/[\\d.]+/g) || []; return m.map(Number); };
    const lum = ([r, g, b]) => {
        const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    // the colour the ring is drawn on: the nearest opaque background outside the element
    let bg = [255, 255, 255];
    for (let n = el.parentElement; n; n = n.parentElement) {
        const c = parse(getComputedStyle(n).backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) { bg = c.slice(0, 3); break; }
        if (n === document.documentElement) break;
    }
    const s = getComputedStyle(el);
    const describe = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + ' "' + (el.textContent || el.value || '').trim().slice(0, 30) + '"';
    return {
        element: describe,
        matchesFocusVisible: el.matches(':focus-visible'),
        style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
        contrast: ratio(parse(s.outlineColor).slice(0, 3), bg),
    };
}'''


def assert_focus_visible(page):
    """The focused element shows a focus ring at least 2px wide whose colour has 3:1 contrast
    with what is behind it (WCAG 2.4.7 and 1.4.11)."""
    ring = page.evaluate(_FOCUS_RING)
    assert 'error' not in ring, ring['error']
    assert ring['style'] != 'none' and ring['width'] >= 2, f"no visible focus ring on {ring['element']}: {ring}"
    assert ring['contrast'] >= 3, 'focus ring of {} has contrast {:.2f}:1 (< 3:1): {}'.format(
        ring['element'], ring['contrast'], ring)
    return ring


def tab_to(page, target, limit=40, backwards=False):
    """Press Tab (Shift+Tab if `backwards`) until `target` (a locator) has focus, asserting the
    focus is visible at every stop. Fails if `limit` presses do not reach it."""
    key = 'Shift+Tab' if backwards else 'Tab'
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        if target.evaluate('(el) => el === document.activeElement'):
            assert_focus_visible(page)
            return
        ring = page.evaluate(_FOCUS_RING)
        if 'error' not in ring:
            assert_focus_visible(page)
            seen.append(ring['element'])
    raise AssertionError(f'{limit} × {key} never reached {target}; focus went: {seen}')


def focused(page):
    """A short description of the element that has focus."""
    return page.evaluate('''() => { const el = document.activeElement;
        return el ? el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
          + (el.className ? '.' + el.className.split(' ').join('.') : '') : null; }''')
