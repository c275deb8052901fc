from hypothesis import given, settings, strategies as st
from keel.testing._contract_search_property import _expr, _run
from keel.tracking.query import Comparison, BoolOp, Not
import collections
c = collections.Counter()
def leaves(e):
    if isinstance(e, Comparison): yield e
    elif isinstance(e, Not): yield from leaves(e.operand)
    else:
        for o in e.operands: yield from leaves(o)
@settings(max_examples=200)
@given(_expr, st.lists(_run, min_size=1, max_size=6))
def t(e, runs):
    c["n"] += 1
    c["runs"] += len(runs)
    for l in leaves(e):
        c[(l.entity.value, l.op)] += 1
t()
print(c.most_common(60))
