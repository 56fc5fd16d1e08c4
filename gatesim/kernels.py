"""numba kernels over the compiled array form of a netlist.

Layout: slots are nets in levelized topological order: primary input bits first, then the two
constants, then gates by logic level. ``op[s]`` is the gate code (see :mod:`gatesim.gates`),
``fanin[s, k]`` the slot driving pin ``k``.

Simulation runs a *program* derived from that (:func:`schedule`): the gates in depth-first order
from the outputs, each writing one row of a small register file ``V[register, word]`` that is
reused once a net's last reader has run (a 24x24 multiplier of 2,441 gates needs 151 registers).
Values are bit-parallel: word ``w`` of a register holds 64 test vectors, vector ``64*w + j`` in bit
``j``; a block of ``block_words`` words (thousands of vectors) goes through every gate before the
next block, so the register file stays in the core's cache and each gate is one loop over the
block's words that LLVM turns into SIMD instructions. Blocks are independent: callers run ranges
of them on several threads (the kernels release the GIL).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .bitpack import TB, load_column, store_column

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
def schedule(op, fanin, arity, n_sources, out_slots):
    """The evaluation program of a compiled netlist: gate order and register allocation.

    Gates run in depth-first post-order from each output in turn (then any gate no output reads),
    which keeps few nets alive at once; each net gets a register from a free list when it is
    computed, and its register is released after its last reader (outputs stay to the end). A
    gate's register never equals one of its operands' (so the vectorized loops never alias).

    Returns (``prog[n_gates, 6]`` int32 rows ``(op, dst, a, b, c, d)`` of registers, ``step_slot``:
    the slot each row computes, ``reg[n_slots]``: register of each slot after it is computed or -1
    for an input or constant nobody reads, number of registers).
    """
    n = op.shape[0]
    n_gates = n - n_sources
    # depth-first post-order, iterative
    state = np.zeros(n, dtype=np.uint8)  # 0 new, 1 on the stack, 2 done
    state[:n_sources] = 2
    order = np.empty(n_gates, dtype=np.int64)
    m = 0
    stack = np.empty(n, dtype=np.int64)
    pin = np.empty(n, dtype=np.int64)
    roots = np.concatenate((out_slots.astype(np.int64), np.arange(n_sources, n)))
    for root in roots:
        if state[root] != 0:
            continue
        sp = 0
        stack[0] = root
        pin[0] = 0
        state[root] = 1
        sp = 1
        while sp > 0:
            s = stack[sp - 1]
            k = pin[sp - 1]
            if k < arity[s]:
                pin[sp - 1] = k + 1
                f = fanin[s, k]
                if state[f] == 0:
                    state[f] = 1
                    stack[sp] = f
                    pin[sp] = 0
                    sp += 1
            else:
                sp -= 1
                state[s] = 2
                order[m] = s
                m += 1
    # last reader of every slot (outputs: past the end)
    last = np.full(n, -1, dtype=np.int64)
    for i in range(n_gates):
        s = order[i]
        for k in range(arity[s]):
            last[fanin[s, k]] = i
    for s in out_slots:
        last[s] = n_gates
    reg = np.full(n, -1, dtype=np.int64)
    free = np.empty(n, dtype=np.int64)
    n_free = 0
    n_regs = 0
    for s in range(n_sources):  # inputs and constants are loaded before the first gate
        if last[s] >= 0:
            reg[s] = n_regs
            n_regs += 1
    prog = np.zeros((n_gates, 6), dtype=np.int32)
    released = np.zeros(n, dtype=np.bool_)
    for i in range(n_gates):
        s = order[i]
        if n_free > 0:
            n_free -= 1
            r = free[n_free]
        else:
            r = n_regs
            n_regs += 1
        reg[s] = r
        prog[i, 0] = op[s]
        prog[i, 1] = r
        for k in range(arity[s]):
            f = fanin[s, k]
            prog[i, 2 + k] = reg[f]
        for k in range(arity[s]):  # release operands read for the last time (after r was taken)
            f = fanin[s, k]
            if last[f] == i and not released[f]:
                released[f] = True
                free[n_free] = reg[f]
                n_free += 1
        if last[s] < 0:  # nobody reads it: computed (for its toggles), then released
            free[n_free] = r
            n_free += 1
    return prog, order.astype(np.int32), reg, n_regs


@njit(nogil=True, cache=True)
def _eval_block(prog, V, nw, want_toggles, toggles, prev, first, first_block):
    """Run every gate of ``prog`` over words ``0..nw-1`` of the register file ``V``.

    With ``want_toggles``, count each gate's output changes between consecutive vectors into
    ``toggles[k]``; ``prev[k]`` carries the gate's last vector (bit 0) from the previous block;
    in a range's first block the first vector has no predecessor and is recorded in ``first[k]``.
    """
    one = np.uint64(1)
    s63 = np.uint64(63)
    for k in range(prog.shape[0]):
        o = prog[k, 0]
        s = prog[k, 1]
        a = prog[k, 2]
        b = prog[k, 3]
        if o == 5:  # AND2
            for w in range(nw):
                V[s, w] = V[a, w] & V[b, w]
        elif o == 9:  # XOR2
            for w in range(nw):
                V[s, w] = V[a, w] ^ V[b, w]
        elif o == 6:  # OR2
            for w in range(nw):
                V[s, w] = V[a, w] | V[b, w]
        elif o == 10:  # XNOR2
            for w in range(nw):
                V[s, w] = ~(V[a, w] ^ V[b, w])
        elif o == 4:  # NOT
            for w in range(nw):
                V[s, w] = ~V[a, w]
        elif o == 7:  # NAND2
            for w in range(nw):
                V[s, w] = ~(V[a, w] & V[b, w])
        elif o == 8:  # NOR2
            for w in range(nw):
                V[s, w] = ~(V[a, w] | V[b, w])
        elif o == 11:  # ANDNOT2
            for w in range(nw):
                V[s, w] = V[a, w] & ~V[b, w]
        elif o == 12:  # ORNOT2
            for w in range(nw):
                V[s, w] = V[a, w] | ~V[b, w]
        elif o == 3:  # BUF
            for w in range(nw):
                V[s, w] = V[a, w]
        elif o == 13:  # MUX2: S ? B : A
            c = prog[k, 4]
            for w in range(nw):
                V[s, w] = (V[a, w] & ~V[c, w]) | (V[b, w] & V[c, w])
        elif o == 14:  # NMUX2
            c = prog[k, 4]
            for w in range(nw):
                V[s, w] = ~((V[a, w] & ~V[c, w]) | (V[b, w] & V[c, w]))
        elif o == 15:  # AOI21
            c = prog[k, 4]
            for w in range(nw):
                V[s, w] = ~((V[a, w] & V[b, w]) | V[c, w])
        elif o == 16:  # OAI21
            c = prog[k, 4]
            for w in range(nw):
                V[s, w] = ~((V[a, w] | V[b, w]) & V[c, w])
        elif o == 17:  # AOI22
            c = prog[k, 4]
            d = prog[k, 5]
            for w in range(nw):
                V[s, w] = ~((V[a, w] & V[b, w]) | (V[c, w] & V[d, w]))
        elif o == 18:  # OAI22
            c = prog[k, 4]
            d = prog[k, 5]
            for w in range(nw):
                V[s, w] = ~((V[a, w] | V[b, w]) & (V[c, w] | V[d, w]))
        if want_toggles:
            x = V[s, 0]
            if first_block:
                first[k] = x & one
                carry = x & one  # the first vector has no predecessor
            else:
                carry = prev[k]
            acc = _popcount(x ^ ((x << one) | carry))
            for w in range(1, nw):
                x = V[s, w]
                acc += _popcount(x ^ ((x << one) | (V[s, w - 1] >> s63)))
            toggles[k] += acc
            prev[k] = V[s, nw - 1] >> s63


@njit(nogil=True, cache=True)
def _fill_constants(V, const_regs, nw):
    ones = ONES
    for w in range(nw):
        if const_regs[0] >= 0:
            V[const_regs[0], w] = np.uint64(0)
        if const_regs[1] >= 0:
            V[const_regs[1], w] = ones


TILE = 64  # words per tile of the plane layout ``planes[tile, bit, word]``; blocks are whole tiles


@njit(nogil=True, cache=True)
def run_planes(prog, n_regs, in_regs, const_regs, out_regs, in_planes, out_planes, n_vectors, w_start, w_stop,
               block_words, want_toggles, toggles, prev, first):
    """Simulate words ``w_start..w_stop-1`` of tiled input bit planes:
    word ``w`` of input slot ``i`` is ``in_planes[w // TILE, i, w % TILE]`` (each tile one contiguous run
    of memory, so a block streams in and out). Writes ``out_planes[tile, output bit, word]`` alike; lanes
    past ``n_vectors`` in the last word repeat the last vector (so they add no toggles). ``in_regs``:
    register of each input slot (-1: unread); ``const_regs``: registers of CONST0 and CONST1.
    """
    V = np.empty((n_regs, block_words), dtype=np.uint64)
    one = np.uint64(1)
    last_word = (n_vectors - 1) // 64
    for w0 in range(w_start, w_stop, block_words):
        nw = min(block_words, w_stop - w0)
        _fill_constants(V, const_regs, nw)
        g = w0
        while g < w0 + nw:  # tile by tile (a range may start inside a tile)
            t, off = g // TILE, g % TILE
            m = min(TILE - off, w0 + nw - g)
            for i in range(in_regs.shape[0]):
                r = in_regs[i]
                if r >= 0:
                    for w in range(m):
                        V[r, g - w0 + w] = in_planes[t, i, off + w]
            g += m
        if w0 + nw - 1 == last_word:
            m = n_vectors - 64 * last_word  # valid lanes in the last word
            if m < 64:
                low = (one << np.uint64(m)) - one
                for i in range(in_regs.shape[0]):
                    r = in_regs[i]
                    if r >= 0:
                        x = V[r, nw - 1]
                        top = (x >> np.uint64(m - 1)) & one
                        V[r, nw - 1] = (x & low) | ((np.uint64(0) - top) & ~low)
        _eval_block(prog, V, nw, want_toggles, toggles, prev, first, w0 == w_start)
        g = w0
        while g < w0 + nw:
            t, off = g // TILE, g % TILE
            m = min(TILE - off, w0 + nw - g)
            for j in range(out_regs.shape[0]):
                r = out_regs[j]
                for w in range(m):
                    out_planes[t, j, off + w] = V[r, g - w0 + w]
            g += m


@njit(nogil=True, cache=True)
def run_values(prog, n_regs, const_regs, in_cols, in_regs, in_widths, out_cols, out_regs, out_widths, n_vectors,
               w_start, w_stop, block_words, want_toggles, toggles, prev, first, too_wide):
    """Simulate vectors ``64*w_start ..`` of values given per port column, packing on the fly.

    ``in_cols``: list of uint64 arrays (``n_vectors`` values, or 1 to broadcast), column ``c`` of
    ``in_widths[c]`` <= 64 bits whose bit ``j`` goes to register ``in_regs[c, j]``; ``out_cols[c]``
    receives the value of output column ``c`` (bit ``j`` from register ``out_regs[c, j]``).
    ``too_wide[c]`` is set when a value of input column ``c`` has bits at or above its width.
    """
    V = np.empty((n_regs, block_words), dtype=np.uint64)
    T = np.empty(64 * TB, dtype=np.uint64)
    for w0 in range(w_start, w_stop, block_words):
        nw = min(block_words, w_stop - w0)
        _fill_constants(V, const_regs, nw)
        for c in range(len(in_cols)):
            width = in_widths[c]
            acc = load_column(in_cols[c], in_regs[c], width, n_vectors, w0, nw, V, 0, T)
            if width < 64 and (acc >> np.uint64(width)) != 0:
                too_wide[c] = True
        _eval_block(prog, V, nw, want_toggles, toggles, prev, first, w0 == w_start)
        for c in range(out_cols.shape[0]):
            store_column(out_cols[c], out_regs[c], out_widths[c], n_vectors, w0, nw, V, 0, T)

