"""Check truth.tsv on its own: each sentence is a substring of the file's paragraph at
paragraph_index (0-based over non-empty lines), each as_written a substring of its sentence,
qualifier in the allowed set, value numeric (or lo-hi for range). Prints counts."""
import os, re, sys, collections
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..'))
ROOTS = {'years': os.path.join(REPO, 'corpora', 'years'),
         'eval-townships': os.environ.get('EVAL_TOWNSHIPS', '/work/shared/eval-townships/corpus')}
QUALS = {'', '余', '多', '近', '约', '以上', '超过', '左右', '不足', '以下', 'range'}
rows = [l.rstrip('\n').split('\t') for l in open(os.path.join(HERE, '..', 'truth.tsv'), encoding='utf-8')]
assert rows[0] == 'file paragraph_index sentence as_written value qualifier unit measure'.split()
bad, per = 0, collections.Counter()
for n, r in enumerate(rows[1:], 2):
    f, pi, s, aw, v, q, u, m = r
    src, name = f.split('/', 1)
    ps = [l.rstrip('\n') for l in open(os.path.join(ROOTS[src], name), encoding='utf-8') if l.strip()]
    ok = (s in ps[int(pi)] and aw in s and q in QUALS and m
          and re.fullmatch(r'\d+(\.\d+)?' + (r'-\d+(\.\d+)?' if q == 'range' else ''), v))
    if not ok:
        bad += 1; print('BAD line', n, r)
    per[src] += 1
print(dict(per), 'total', sum(per.values()), 'bad', bad)
sys.exit(1 if bad else 0)
