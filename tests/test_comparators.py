import numpy as np
import pytest

import circuits
from gatesim import count, simulate, verify


@pytest.mark.parametrize("width", range(1, 9))
def test_exhaustive(width):
    r = verify(circuits.build("magnitude-comparator", width), circuits.reference("magnitude-comparator", width))
    assert r.exhaustive and r.ok, r.first_failure


@pytest.mark.parametrize("width", [11, 24, 53, 64])
def test_random_edges_and_near_equal(width):
    net = circuits.build("magnitude-comparator", width)
    r = verify(net, circuits.reference("magnitude-comparator", width), vectors=100_000, seed=width)
    assert r.ok, r.first_failure
    rng = np.random.default_rng(width)
    a = [int(x) for x in rng.integers(1, 2**62, 2000)]
    a = [x % (1 << width) or 1 for x in a]
    for b, want in ((a, (0, 1, 0)), ([x - 1 for x in a], (0, 0, 1)), ([x ^ 1 if x & 1 else x + 1 for x in a], None)):
        out = simulate(net, a=a, b=b)
        for i in range(0, 2000, 97):
            exp = (int(a[i] < b[i]), int(a[i] == b[i]), int(a[i] > b[i]))
            assert (int(out["lt"][i]), int(out["eq"][i]), int(out["gt"][i])) == exp
            if want:
                assert exp == want


def test_log_depth():
    assert count(circuits.build("magnitude-comparator", 64)).logic_depth <= 2 * 6 + 2
