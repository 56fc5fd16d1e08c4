"""numba kernels that turn values into bit planes and back (64x64 bit-matrix transposes).

A column is one port's values (uint64, ``width`` <= 64 bits used), one per vector. Its bit plane
``j`` holds bit ``j`` of 64 consecutive vectors per word (vector ``64*w + l`` in bit ``l`` of word
``w``), the layout the simulation kernels evaluate gates on. Transposing 64 values of ``rows``
bits (``rows`` a power of two >= width) takes log2(rows) stages of masked block swaps
(Hacker's Delight, section 7-3); narrow columns fold 64/rows values into each row first, so a
24-bit port costs five stages, not six. Stages run three at a time on eight rows held in
registers, over ``TB`` words at once so that LLVM turns each step into SIMD instructions.
"""
from __future__ import annotations

import numpy as np
from numba import njit

TB = 32  # words transposed at once: the scratch of 64 rows x TB words stays in the L1 cache
_U = np.uint64
_MASKS = np.array([0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF,
                   0x0000FFFF0000FFFF, 0x00000000FFFFFFFF], dtype=np.uint64)


@njit(nogil=True, cache=True, inline="always")
def _log2(k):
    s = 0
    while (1 << s) < k:
        s += 1
    return s


@njit(nogil=True, cache=True, inline="always")
def _swap(x, y, k, mask):
    """Swap the bits of ``x`` selected by ``mask << k`` with the bits of ``y`` selected by ``mask``."""
    t = ((x >> k) ^ y) & mask
    return x ^ (t << k), y ^ t


@njit(nogil=True, cache=True)
def _pass3(T, rows, k):
    """Stages ``k``, ``k/2``, ``k/4`` of the transpose on every group of eight rows they pair up."""
    k4, k2, k1 = _U(k), _U(k // 2), _U(k // 4)
    m4, m2, m1 = _MASKS[_log2(k)], _MASKS[_log2(k) - 1], _MASKS[_log2(k) - 2]
    sr = (k // 4) * TB
    for hi in range(rows // (2 * k)):
        for lo in range(k // 4):
            b = (hi * 2 * k + lo) * TB
            for w in range(TB):
                x0, x1, x2, x3 = T[b + w], T[b + sr + w], T[b + 2 * sr + w], T[b + 3 * sr + w]
                x4, x5, x6, x7 = T[b + 4 * sr + w], T[b + 5 * sr + w], T[b + 6 * sr + w], T[b + 7 * sr + w]
                x0, x4 = _swap(x0, x4, k4, m4)
                x1, x5 = _swap(x1, x5, k4, m4)
                x2, x6 = _swap(x2, x6, k4, m4)
                x3, x7 = _swap(x3, x7, k4, m4)
                x0, x2 = _swap(x0, x2, k2, m2)
                x1, x3 = _swap(x1, x3, k2, m2)
                x4, x6 = _swap(x4, x6, k2, m2)
                x5, x7 = _swap(x5, x7, k2, m2)
                x0, x1 = _swap(x0, x1, k1, m1)
                x2, x3 = _swap(x2, x3, k1, m1)
                x4, x5 = _swap(x4, x5, k1, m1)
                x6, x7 = _swap(x6, x7, k1, m1)
                T[b + w], T[b + sr + w], T[b + 2 * sr + w], T[b + 3 * sr + w] = x0, x1, x2, x3
                T[b + 4 * sr + w], T[b + 5 * sr + w], T[b + 6 * sr + w], T[b + 7 * sr + w] = x4, x5, x6, x7


@njit(nogil=True, cache=True)
def _pass2(T, rows, k):
    """Stages ``k`` and ``k/2`` on groups of four rows."""
    k2, k1 = _U(k), _U(k // 2)
    m2, m1 = _MASKS[_log2(k)], _MASKS[_log2(k) - 1]
    sr = (k // 2) * TB
    for hi in range(rows // (2 * k)):
        for lo in range(k // 2):
            b = (hi * 2 * k + lo) * TB
            for w in range(TB):
                x0, x1, x2, x3 = T[b + w], T[b + sr + w], T[b + 2 * sr + w], T[b + 3 * sr + w]
                x0, x2 = _swap(x0, x2, k2, m2)
                x1, x3 = _swap(x1, x3, k2, m2)
                x0, x1 = _swap(x0, x1, k1, m1)
                x2, x3 = _swap(x2, x3, k1, m1)
                T[b + w], T[b + sr + w], T[b + 2 * sr + w], T[b + 3 * sr + w] = x0, x1, x2, x3


@njit(nogil=True, cache=True)
def _pass1(T, rows, k):
    """Stage ``k`` on pairs of rows."""
    kk, m = _U(k), _MASKS[_log2(k)]
    sr = k * TB
    for hi in range(rows // (2 * k)):
        for lo in range(k):
            b = (hi * 2 * k + lo) * TB
            for w in range(TB):
                x0, x1 = _swap(T[b + w], T[b + sr + w], kk, m)
                T[b + w], T[b + sr + w] = x0, x1


@njit(nogil=True, cache=True)
def transpose(T, rows):
    """Transpose the ``rows x rows`` bit blocks of rows ``0..rows-1`` of ``T`` (flat ``[64 * TB]``, row
    ``i`` at ``T[i*TB : (i+1)*TB]``), in every one of the ``TB`` word columns. Its own inverse."""
    if rows == 64:  # the common wide cases with constant strides (three times faster than the loop below)
        _pass3(T, 64, 32)
        _pass3(T, 64, 4)
        return
    if rows == 32:
        _pass3(T, 32, 16)
        _pass2(T, 32, 2)
        return
    k = rows // 2
    while k >= 4:
        _pass3(T, rows, k)
        k //= 8
    if k == 2:
        _pass2(T, rows, 2)
    elif k == 1:
        _pass1(T, rows, 1)


@njit(nogil=True, cache=True)
def rows_for(width):
    """Rows of the transpose for a ``width``-bit column: the next power of two."""
    r = 1
    while r < width:
        r *= 2
    return r


@njit(nogil=True, cache=True)
def _gather(col, rows, n_vectors, w0, nw, T):
    """Rows of ``T`` from the values of words ``w0..w0+nw-1`` (``64/rows`` values folded per row);
    lanes past ``n_vectors`` repeat the last vector. Returns the OR of the values read."""
    acc = _U(0)
    fold = 64 // rows
    for w in range(nw):
        base = (w0 + w) * 64
        m = min(64, n_vectors - base)
        if rows == 64 and m == 64:
            for i in range(0, 64, 8):
                x0, x1, x2, x3 = col[base + i], col[base + i + 1], col[base + i + 2], col[base + i + 3]
                x4, x5, x6, x7 = col[base + i + 4], col[base + i + 5], col[base + i + 6], col[base + i + 7]
                acc |= x0 | x1 | x2 | x3 | x4 | x5 | x6 | x7
                T[i * TB + w], T[(i + 1) * TB + w], T[(i + 2) * TB + w], T[(i + 3) * TB + w] = x0, x1, x2, x3
                T[(i + 4) * TB + w], T[(i + 5) * TB + w], T[(i + 6) * TB + w], T[(i + 7) * TB + w] = x4, x5, x6, x7
        elif rows == 1 and m == 64:  # one-bit ports (carries, flags): a vectorizable reduction
            x = _U(0)
            for q in range(64):
                v = col[base + q]
                acc |= v
                x |= v << _U(q)
            T[w] = x
        elif m == 64:
            for i in range(rows):
                x = _U(0)
                for q in range(fold):
                    v = col[base + q * rows + i]
                    acc |= v
                    x |= v << _U(q * rows)
                T[i * TB + w] = x
        else:
            for i in range(rows):
                x = _U(0)
                for q in range(fold):
                    v = col[base + min(q * rows + i, m - 1)]
                    acc |= v
                    x |= v << _U(q * rows)
                T[i * TB + w] = x
    return acc  # word columns are transposed independently: those past nw may hold anything


@njit(nogil=True, cache=True)
def _scatter(T, rows, n_vectors, w0, nw, out):
    """Values of words ``w0..w0+nw-1`` from the transposed rows of ``T`` (vectors past the end are dropped)."""
    fold = 64 // rows
    field = ~_U(0) if rows == 64 else (_U(1) << _U(rows)) - _U(1)
    for w in range(nw):
        base = (w0 + w) * 64
        m = min(64, n_vectors - base)
        if rows == 64 and m == 64:
            for i in range(0, 64, 8):
                x0, x1, x2, x3 = T[i * TB + w], T[(i + 1) * TB + w], T[(i + 2) * TB + w], T[(i + 3) * TB + w]
                x4, x5, x6, x7 = T[(i + 4) * TB + w], T[(i + 5) * TB + w], T[(i + 6) * TB + w], T[(i + 7) * TB + w]
                out[base + i], out[base + i + 1], out[base + i + 2], out[base + i + 3] = x0, x1, x2, x3
                out[base + i + 4], out[base + i + 5], out[base + i + 6], out[base + i + 7] = x4, x5, x6, x7
        elif rows == 1 and m == 64:
            x = T[w]
            for q in range(64):
                out[base + q] = (x >> _U(q)) & _U(1)
        else:
            for q in range(fold):
                sh = _U(q * rows)
                for i in range(rows):
                    if q * rows + i < m:
                        out[base + q * rows + i] = (T[i * TB + w] >> sh) & field


@njit(nogil=True, cache=True)
def load_column(col, regs, width, n_vectors, w0, nw, V, v_off, T):
    """Bit planes of one column into rows ``regs[j]`` of ``V`` (bit ``j``; -1: not wanted), words
    ``v_off..v_off+nw-1`` of ``V`` for vector words ``w0..w0+nw-1``. A column of one value is
    broadcast to every vector. Returns the OR of the values read (to check they fit in ``width``)."""
    if col.shape[0] == 1:
        v = col[0]
        for j in range(width):
            r = regs[j]
            if r >= 0:
                fill = ~_U(0) if (v >> _U(j)) & _U(1) else _U(0)
                for w in range(nw):
                    V[r, v_off + w] = fill
        return v
    rows = rows_for(width)
    acc = _U(0)
    for s in range(0, nw, TB):
        n = min(TB, nw - s)
        acc |= _gather(col, rows, n_vectors, w0 + s, n, T)
        transpose(T, rows)
        for j in range(width):
            r = regs[j]
            if r >= 0:
                for w in range(n):
                    V[r, v_off + s + w] = T[j * TB + w]
    return acc


@njit(nogil=True, cache=True)
def store_column(out, regs, width, n_vectors, w0, nw, V, v_off, T):
    """Inverse of :func:`load_column`: rows ``regs[j]`` of ``V`` -> values in ``out`` (valid vectors only)."""
    rows = rows_for(width)
    for s in range(0, nw, TB):
        n = min(TB, nw - s)
        for j in range(rows):
            if j < width:
                r = regs[j]
                for w in range(n):
                    T[j * TB + w] = V[r, v_off + s + w]
            else:  # bits at and above the width must read 0
                for w in range(TB):
                    T[j * TB + w] = 0
        transpose(T, rows)
        _scatter(T, rows, n_vectors, w0 + s, n, out)


@njit(nogil=True, cache=True)
def pack_columns(in_cols, in_rows, in_widths, n_vectors, planes, too_wide):
    """Tiled bit planes ``planes[tile, in_rows[c, j], word]`` (``tile`` of ``planes.shape[2]`` words) of
    every column ``c``; ``too_wide[c]`` is set when a value of column ``c`` does not fit in ``in_widths[c]`` bits."""
    T = np.empty(64 * TB, dtype=np.uint64)
    tile = planes.shape[2]
    words = (n_vectors + 63) // 64
    for t in range(planes.shape[0]):
        nw = min(tile, words - t * tile)
        for c in range(len(in_cols)):
            width = in_widths[c]
            acc = load_column(in_cols[c], in_rows[c], width, n_vectors, t * tile, nw, planes[t], 0, T)
            if width < 64 and (acc >> _U(width)) != 0:
                too_wide[c] = True


@njit(nogil=True, cache=True)
def unpack_columns(planes, out_rows, out_widths, n_vectors, out_cols):
    """Values ``out_cols[c]`` from tiled bit planes ``planes[tile, out_rows[c, j], word]`` (inverse of :func:`pack_columns`)."""
    T = np.empty(64 * TB, dtype=np.uint64)
    tile = planes.shape[2]
    words = (n_vectors + 63) // 64
    for t in range(planes.shape[0]):
        nw = min(tile, words - t * tile)
        for c in range(out_cols.shape[0]):
            store_column(out_cols[c], out_rows[c], out_widths[c], n_vectors, t * tile, nw, planes[t], 0, T)
