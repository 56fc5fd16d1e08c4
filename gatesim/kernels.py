"""numba kernels over the compiled array form of a netlist.

Layout: slots are nets in levelized topological order: primary input bits first, then the two
constants, then gates by logic level. ``op[s]`` is the gate code (see :mod:`gatesim.gates`),
``fanin[s, k]`` the slot driving pin ``k``. Simulation values are bit-parallel: ``values[s, w]``
holds 64 test vectors of slot ``s``, vector ``64*w + j`` in bit ``j``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True)
def levelize(fanin, arity, n_sources):
    """Logic level of every slot given slots in topological order (sources are level 0)."""
    n = fanin.shape[0]
    level = np.zeros(n, dtype=np.int32)
    for s in range(n_sources, n):
        m = 0
        for k in range(arity[s]):
            lv = level[fanin[s, k]]
            if lv > m:
                m = lv
        level[s] = m + 1
    return level


@njit(cache=True)
def count_gates(op, n_codes, n_sources, inst, top_priced, gate_price):
    """Gates per type code, and transistors of gates not inside a priced cell.

    ``top_priced[i]`` is the outermost instance at or above instance ``i`` that the library
    prices as a cell (-1: none). Returns (counts per code, transistors outside cells,
    used flag per instance, first slot whose gate has no price or -1).
    """
    counts = np.zeros(n_codes, dtype=np.int64)
    used = np.zeros(top_priced.shape[0], dtype=np.bool_)
    transistors = np.int64(0)
    unpriced = -1
    for s in range(n_sources, op.shape[0]):
        code = op[s]
        counts[code] += 1
        i = inst[s]
        t = -1
        if i >= 0:
            t = top_priced[i]
        if t >= 0:
            used[t] = True
        else:
            p = gate_price[code]
            if p < 0:
                if unpriced < 0:
                    unpriced = s
            else:
                transistors += p
    return counts, transistors, used, unpriced


@njit(cache=True)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True)
def _eval_chunk(op, fanin, n_inputs, n_sources, values, nw):
    """Evaluate every gate over the first ``nw`` words of ``values`` (inputs already loaded)."""
    n = op.shape[0]
    ones = ONES
    for w in range(nw):
        values[n_inputs, w] = np.uint64(0)
        values[n_inputs + 1, w] = ones
    for s in range(n_sources, n):
        o = op[s]
        a = fanin[s, 0]
        b = fanin[s, 1]
        c = fanin[s, 2]
        d = fanin[s, 3]
        va = values[a]
        out = values[s]
        if o == 3:  # BUF
            for w in range(nw):
                out[w] = va[w]
        elif o == 4:  # NOT
            for w in range(nw):
                out[w] = ~va[w]
        elif o == 5:  # AND2
            vb = values[b]
            for w in range(nw):
                out[w] = va[w] & vb[w]
        elif o == 6:  # OR2
            vb = values[b]
            for w in range(nw):
                out[w] = va[w] | vb[w]
        elif o == 7:  # NAND2
            vb = values[b]
            for w in range(nw):
                out[w] = ~(va[w] & vb[w])
        elif o == 8:  # NOR2
            vb = values[b]
            for w in range(nw):
                out[w] = ~(va[w] | vb[w])
        elif o == 9:  # XOR2
            vb = values[b]
            for w in range(nw):
                out[w] = va[w] ^ vb[w]
        elif o == 10:  # XNOR2
            vb = values[b]
            for w in range(nw):
                out[w] = ~(va[w] ^ vb[w])
        elif o == 11:  # ANDNOT2
            vb = values[b]
            for w in range(nw):
                out[w] = va[w] & ~vb[w]
        elif o == 12:  # ORNOT2
            vb = values[b]
            for w in range(nw):
                out[w] = va[w] | ~vb[w]
        elif o == 13:  # MUX2: S ? B : A
            vb = values[b]
            vs = values[c]
            for w in range(nw):
                out[w] = (va[w] & ~vs[w]) | (vb[w] & vs[w])
        elif o == 14:  # NMUX2
            vb = values[b]
            vs = values[c]
            for w in range(nw):
                out[w] = ~((va[w] & ~vs[w]) | (vb[w] & vs[w]))
        elif o == 15:  # AOI21
            vb = values[b]
            vc = values[c]
            for w in range(nw):
                out[w] = ~((va[w] & vb[w]) | vc[w])
        elif o == 16:  # OAI21
            vb = values[b]
            vc = values[c]
            for w in range(nw):
                out[w] = ~((va[w] | vb[w]) & vc[w])
        elif o == 17:  # AOI22
            vb = values[b]
            vc = values[c]
            vd = values[d]
            for w in range(nw):
                out[w] = ~((va[w] & vb[w]) | (vc[w] & vd[w]))
        elif o == 18:  # OAI22
            vb = values[b]
            vc = values[c]
            vd = values[d]
            for w in range(nw):
                out[w] = ~((va[w] | vb[w]) & (vc[w] | vd[w]))


@njit(cache=True)
def simulate_planes(op, fanin, n_inputs, n_sources, out_slots, in_planes, n_vectors, chunk_words, want_toggles):
    """Simulate ``n_vectors`` vectors given as input bit planes ``in_planes[n_inputs, W]``.

    Returns (output planes ``[len(out_slots), W]``, toggles per slot between consecutive
    vectors; zeros when ``want_toggles`` is False).
    """
    n = op.shape[0]
    total_words = in_planes.shape[1]
    out = np.zeros((out_slots.shape[0], total_words), dtype=np.uint64)
    toggles = np.zeros(n, dtype=np.int64)
    values = np.zeros((n, chunk_words), dtype=np.uint64)
    prev = np.zeros(n, dtype=np.uint64)  # last vector's bit of each slot (in bit 63)
    one = np.uint64(1)
    for start in range(0, total_words, chunk_words):
        nw = min(chunk_words, total_words - start)
        for i in range(n_inputs):
            for w in range(nw):
                values[i, w] = in_planes[i, start + w]
        _eval_chunk(op, fanin, n_inputs, n_sources, values, nw)
        for j in range(out_slots.shape[0]):
            s = out_slots[j]
            for w in range(nw):
                out[j, start + w] = values[s, w]
        if want_toggles:
            for s in range(n_sources, n):
                acc = np.int64(0)
                carry = prev[s]
                for w in range(nw):
                    x = values[s, w]
                    diff = x ^ ((x << one) | (carry >> np.uint64(63)))
                    g = start + w
                    if g == 0:
                        diff &= ~one  # vector 0 has no predecessor
                    lanes = n_vectors - 64 * g
                    if lanes < 64:
                        diff &= (one << np.uint64(lanes)) - one
                    acc += np.int64(_popcount(diff))
                    carry = x
                prev[s] = carry
                toggles[s] += acc
    return out, toggles


@njit(cache=True)
def pack_bits(values, width, n_words):
    """Transpose ``values[N]`` (uint64, low ``width`` bits used) into bit planes ``[width, n_words]``."""
    planes = np.zeros((width, n_words), dtype=np.uint64)
    n = values.shape[0]
    one = np.uint64(1)
    for w in range(n_words):
        base = w * 64
        m = min(64, n - base)
        for j in range(width):
            acc = np.uint64(0)
            sj = np.uint64(j)
            for lane in range(m):  # a reduction numba vectorizes
                acc |= ((values[base + lane] >> sj) & one) << np.uint64(lane)
            planes[j, w] = acc
    return planes


@njit(cache=True)
def unpack_bits(planes, n_vectors):
    """Inverse of :func:`pack_bits`: bit planes ``[width <= 64, W]`` -> ``uint64[n_vectors]``."""
    width = planes.shape[0]
    out = np.zeros(n_vectors, dtype=np.uint64)
    one = np.uint64(1)
    for w in range(planes.shape[1]):
        base = w * 64
        m = min(64, n_vectors - base)
        for j in range(width):
            p = planes[j, w]
            sj = np.uint64(j)
            for lane in range(m):
                out[base + lane] |= ((p >> np.uint64(lane)) & one) << sj
    return out
