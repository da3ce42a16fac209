"""Consistency check for truth.tsv and figure_pairs.tsv (structure only, no judging)."""
import csv, sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / 'corpora' / 'years'

def paras(name):
    return [l.rstrip('\n') for l in open(CORPUS / name, encoding='utf-8') if l.strip()]

def rows(name):
    with open(HERE / name, encoding='utf-8', newline='') as f:
        return list(csv.DictReader(f, delimiter='\t', quoting=csv.QUOTE_NONE))

errors = []
truth = rows('truth.tsv')
pairs = {}
for r in truth:
    pairs.setdefault((r['place'], r['earlier_file'], r['later_file']), []).append(r)
labels = Counter()
for (place, ef, lf), rs in pairs.items():
    ep, lp = paras(ef), paras(lf)
    later_seen, earlier_seen, cps = Counter(), Counter(), Counter()
    for r in rs:
        i = int(r['paragraph_index'])
        labels[r['label']] += 1
        if r['kind'] not in ('heading', 'body'):
            errors.append(f'bad kind {r}')
        if r['side'] == 'later':
            if not 1 <= i < len(lp): errors.append(f'later index out of range {r}')
            later_seen[i] += 1
            if r['label'] == '延续':
                c = int(r['counterpart_index'])
                if not 1 <= c < len(ep): errors.append(f'counterpart out of range {r}')
                cps[c] += 1
            elif r['label'] == '新增':
                if r['counterpart_index']: errors.append(f'新增 with counterpart {r}')
            else:
                errors.append(f'bad later label {r}')
        elif r['side'] == 'earlier':
            if not 1 <= i < len(ep): errors.append(f'earlier index out of range {r}')
            if r['label'] != '未再提及' or r['counterpart_index']:
                errors.append(f'bad earlier row {r}')
            earlier_seen[i] += 1
        else:
            errors.append(f'bad side {r}')
    for i in range(1, len(lp)):
        if later_seen[i] != 1: errors.append(f'{place} {lf} later {i}: {later_seen[i]} rows')
    for i in range(1, len(ep)):
        if earlier_seen[i] + cps[i] != 1:
            errors.append(f'{place} {ef} earlier {i}: {earlier_seen[i]} 未再提及 rows + {cps[i]} counterparts')

for r in rows('figure_pairs.tsv'):
    for side in ('earlier', 'later'):
        text = open(CORPUS / r[side + '_file'], encoding='utf-8').read()
        n = text.count(r[side + '_as_written'])
        if n == 0: errors.append(f'figure not found {side} {r}')
        elif n > 1: print(f'note: {r[side+"_file"]} {r[side+"_as_written"]!r} occurs {n} times ({r["measure"]})')
    if (r['place'], r['earlier_file'], r['later_file']) not in pairs:
        errors.append(f'figure pair for uncovered pair {r}')

print(f'{len(pairs)} pairs, {len(truth)} rows, labels: {dict(labels)}')
kinds = Counter((r['side'], r['label'], r['kind']) for r in truth)
print('by side/label/kind:', dict(kinds))
print('ambiguous notes:', sum(r['note'].startswith('ambiguous:') for r in truth))
print('\n'.join(errors) or 'OK')
sys.exit(1 if errors else 0)
