"""The comparison table of bench/compare: one row per workload, one column per system.
Each column is a dict keyed by row ('pub', 'sync', 'cons100', 'cons1000', 'e2e', 'e2erate')
of figures: msgs_per_s, p50_ms, p99_ms, publish_msgs_per_s, cpu (server CPU-µs per message).
"""

ROWS = [
    ('pub', 'pub W=256, msgs/s (p50 / p99 ms)'),
    ('sync', 'sync, msgs/s (p50 / p99 ms)'),
    ('cons100', 'cons P=100, msgs/s'),
    ('cons1000', 'cons P=1000, msgs/s'),
    ('e2e', 'e2e full speed, consume (publish) msgs/s'),
    ('e2erate', 'e2e at 2,000/s, p50 / p99 ms'),
]
CPU_ROW = 'server CPU µs per message, pub / sync / cons P=100 / cons P=1000 / e2e / e2erate'
DASH = '–'


def _n(x):
    return DASH if x is None else f'{int(round(x)):,}'


def _ms(x):
    if x is None:
        return DASH
    return f'{x:.2f}' if x < 10 else f'{x:.1f}' if x < 100 else f'{x:.0f}'


def cell(row, f):
    if not f:
        return DASH
    g = f.get
    if row in ('pub', 'sync'):
        return f"{_n(g('msgs_per_s'))} ({_ms(g('p50_ms'))} / {_ms(g('p99_ms'))})"
    if row in ('cons100', 'cons1000'):
        return _n(g('msgs_per_s'))
    if row == 'e2e':
        return f"{_n(g('msgs_per_s'))} ({_n(g('publish_msgs_per_s'))})"
    return f"{_ms(g('p50_ms'))} / {_ms(g('p99_ms'))}"


def cpu_cell(col):
    return ' / '.join(_n((col.get(r) or {}).get('cpu')) for r, _ in ROWS)


def markdown(columns):
    """columns: [(title, figures by row)]; returns the table as markdown lines."""
    lines = ['| workload | ' + ' | '.join(t for t, _ in columns) + ' |',
             '| --- |' + ' --- |' * len(columns)]
    for row, title in ROWS:
        lines.append(f'| {title} | ' + ' | '.join(cell(row, c.get(row)) for _, c in columns) + ' |')
    lines.append(f'| {CPU_ROW} | ' + ' | '.join(cpu_cell(c) for _, c in columns) + ' |')
    return lines
