"""Assemble truth.tsv from the hand-written *.rows files.

Each row in src/*.rows is a judgement made by reading the paragraph:
  file  paragraph_index  anchor  as_written  value  qualifier  unit  measure
`anchor` is a short string that occurs exactly once in the paragraph and
contains `as_written` (it only locates the figure); this script copies the
sentence around it (from after the previous 。；;！!？? or line start, up to and
including the next one or line end) and checks that everything is a substring.
Roots: years/ -> corpora/years, eval-townships/ -> ../shared/eval-townships/corpus.
"""
import os, sys, glob
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
ROOTS = {'years': os.path.join(REPO, 'corpora', 'years'),
         'eval-townships': os.environ.get('EVAL_TOWNSHIPS', os.path.join(REPO, '..', '..', 'shared', 'eval-townships', 'corpus'))}
if not os.path.isdir(ROOTS['eval-townships']):
    ROOTS['eval-townships'] = '/work/shared/eval-townships/corpus'
END = set('。；;！!？?')
QUALS = {'', '余', '多', '近', '约', '以上', '超过', '左右', '不足', '以下', 'range'}

def paras(rel):
    src, name = rel.split('/', 1)
    with open(os.path.join(ROOTS[src], name), encoding='utf-8') as f:
        return [l.rstrip('\n') for l in f if l.strip()]

def sentence(p, pos):
    s = pos
    while s > 0 and p[s - 1] not in END:
        s -= 1
    e = pos
    while e < len(p) and p[e] not in END:
        e += 1
    return p[s:e + 1] if e < len(p) else p[s:]

out, errs, seen = [], [], set()
for rf in sorted(glob.glob(os.path.join(HERE, '*.rows'))):
    for n, line in enumerate(open(rf, encoding='utf-8'), 1):
        if not line.strip() or line.startswith('#'):
            continue
        c = line.rstrip('\n').split('\t')
        if len(c) != 8:
            errs.append(f'{rf}:{n}: {len(c)} cols'); continue
        f, pi, anchor, aw, val, q, unit, measure = c
        p = paras(f)[int(pi)]
        anchor = anchor or aw + unit
        if p.count(anchor) != 1:
            errs.append(f'{rf}:{n}: anchor {anchor!r} occurs {p.count(anchor)}x in {f}[{pi}]'); continue
        if aw not in anchor or q not in QUALS or not measure:
            errs.append(f'{rf}:{n}: bad as_written/qualifier/measure'); continue
        pos = p.index(anchor) + anchor.index(aw)
        key = (f, pi, pos)
        if key in seen:
            errs.append(f'{rf}:{n}: duplicate figure'); continue
        seen.add(key)
        out.append((f, int(pi), pos, sentence(p, pos), aw, val, q, unit, measure))
if errs:
    print('\n'.join(errs)); sys.exit(1)
out.sort(key=lambda r: (r[0], r[1], r[2]))
with open(os.path.join(HERE, '..', 'truth.tsv'), 'w', encoding='utf-8') as w:
    w.write('file\tparagraph_index\tsentence\tas_written\tvalue\tqualifier\tunit\tmeasure\n')
    for f, pi, pos, s, aw, val, q, unit, m in out:
        w.write('\t'.join([f, str(pi), s, aw, val, q, unit, m]) + '\n')
print(len(out), 'figures')
