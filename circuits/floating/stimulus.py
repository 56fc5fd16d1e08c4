"""Test vectors for the floating-point units (what ``gatesim verify`` and the tests draw).

``edges()``: every combination of the format's special and boundary values for each input port
(zeros, the smallest and largest subnormals, the smallest and largest normals, 1 and its
neighbours, 1.5, 2, infinities, quiet and signaling NaNs, both signs).

``random(n, rng)``: three quarters uniformly random bit patterns, one quarter drawn from the
boundaries of the operation: special values, halfway rounding cases, cancellation in add and FMA,
alignment distances around the guard bits, exponent sums and differences at the edges of overflow
and underflow in mul and div, exact quotients and perfect squares, values next to rounding and
overflow boundaries of a conversion's target, integers around powers of two.
"""
from __future__ import annotations

import numpy as np

from gatesim.formats import NumberFormat, parse_format

from .reference import Exact, round_pack
from .spec import FloatSpec

U64 = np.uint64


def special_values(sp: FloatSpec) -> list[int]:
    """Special and boundary bit patterns of a format, both signs."""
    F, one = sp.F, sp.one
    mags = {0, 1, sp.frac_mask, 1 << (F - 1), 1 << F, (1 << F) | 1, (2 << F) - 1, sp.max_finite, sp.max_finite - 1,
            one, one + 1, one - 1, one | (1 << (F - 1)), (sp.bias + 1) << F, (sp.bias - 1) << F, sp.qnan}
    if not sp.nan_only:
        mags.add(sp.inf)
        mags.add((sp.exp_ones << F) | sp.frac_mask)
        if F >= 2:
            mags.add((sp.exp_ones << F) | 1)  # signaling NaN
    return sorted(m | s for m in mags for s in (0, sp.sign_bit))


class FloatStimulus:
    """Edge and random vectors for one unit (see the module docstring)."""

    def __init__(self, op: str, fmt: NumberFormat, rounding: str = "rne", ftz: bool = False, to=None):
        self.op = op
        self.fmt = fmt
        self.dst = parse_format(to) if to is not None else None
        self.src_sp = FloatSpec(fmt) if fmt.is_float else None
        self.rounding, self.ftz = rounding, ftz
        self.ports = {"fma": ("a", "b", "c"), "sqrt": ("a",), "convert": ("a",)}.get(op, ("a", "b"))

    # -- helpers -----------------------------------------------------------------------------------
    def _bits(self, rng, n, width):
        hi = rng.integers(0, 1 << 32, n, dtype=U64) << U64(32)
        v = hi | rng.integers(0, 1 << 32, n, dtype=U64)
        return v & U64((1 << width) - 1) if width < 64 else v

    def _pool(self):
        if self.fmt.is_float:
            return special_values(self.src_sp)
        n = self.fmt.bits
        vals = {0, 1, (1 << n) - 1, 1 << (n - 1), (1 << (n - 1)) - 1}
        for k in range(n):
            vals |= {1 << k, ((1 << k) - 1), (-(1 << k)) % (1 << n), (-(1 << k) - 1) % (1 << n)}
        return sorted(vals)

    def edges(self) -> dict[str, np.ndarray]:
        pool = np.array(self._pool(), dtype=U64)
        k = len(self.ports)
        grids = np.meshgrid(*([pool] * k), indexing="ij")
        return {p: g.ravel().copy() for p, g in zip(self.ports, grids)}

    def random(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        width = self.fmt.bits
        out = {p: self._bits(rng, n, width) for p in self.ports}
        rows = np.flatnonzero(rng.random(n) < 0.25)
        if rows.size:
            crafted = self._boundary(rows.size, rng)
            for p in self.ports:
                out[p][rows] = crafted[p]
        return out

    # -- boundary cases --------------------------------------------------------------------------
    def _compose(self, sign, field, frac):
        sp = self.src_sp
        return (np.asarray(sign, dtype=U64) << U64(sp.N - 1)) | (np.asarray(field, dtype=U64) << U64(sp.F)) | \
            (np.asarray(frac, dtype=U64) & U64(sp.frac_mask))

    def _fields(self, rng, m, lo=0, hi=None):
        hi = self.src_sp.emax_field if hi is None else hi
        return rng.integers(lo, hi + 1, m).astype(np.int64)

    def _clip(self, f):
        return np.clip(f, 0, self.src_sp.emax_field)

    def _boundary(self, m: int, rng) -> dict[str, np.ndarray]:
        if not self.fmt.is_float:
            return self._int_boundary(m, rng)
        kinds = getattr(self, f"_kinds_{self.op}")()
        which = rng.integers(0, len(kinds) + 1, m)
        out = {p: np.zeros(m, dtype=U64) for p in self.ports}
        pool = np.array(special_values(self.src_sp), dtype=U64)
        for j in range(len(kinds) + 1):
            idx = np.flatnonzero(which == j)
            if not idx.size:
                continue
            if j == len(kinds):  # special values, single-bit payloads, and specials against random patterns
                vals = {p: pool[rng.integers(0, len(pool), idx.size)] for p in self.ports}
                for p in self.ports:
                    one = rng.random(idx.size) < 0.3
                    vals[p][one] = self._single_bit(rng, int(one.sum()))
                mix = rng.random(idx.size) < 0.3
                for p in self.ports[1:]:
                    vals[p][mix] = self._bits(rng, int(mix.sum()), self.fmt.bits)
            else:
                vals = kinds[j](idx.size, rng)
            for p in self.ports:
                out[p][idx] = np.asarray(vals[p], dtype=U64)
        return out

    def _single_bit(self, rng, m):
        """NaNs (infinity's exponent) and subnormals whose fraction has one bit set: what catches a
        broken zero-detection tree."""
        sp = self.src_sp
        frac = U64(1) << rng.integers(0, sp.F, m).astype(U64)
        field = np.where(rng.random(m) < 0.5, sp.exp_ones, 0)
        return self._compose(self._signs(rng, m), field, frac)

    def _signs(self, rng, m):
        return rng.integers(0, 2, m)

    def _frac(self, rng, m):
        sp = self.src_sp
        r = self._bits(rng, m, sp.F)
        pick = rng.integers(0, 4, m)  # random, zero, all ones, one
        r = np.where(pick == 1, U64(0), np.where(pick == 2, U64(sp.frac_mask), np.where(pick == 3, U64(1), r)))
        return r

    def _kinds_add(self):
        sp = self.src_sp

        def cancel(m, rng):  # b close to -a
            a = self._compose(self._signs(rng, m), self._fields(rng, m, 0, sp.emax_field), self._frac(rng, m))
            k = rng.integers(-3, 4, m)
            mag = np.clip((a & U64(sp.mag_mask)).astype(np.int64) + k, 0, sp.max_finite).astype(U64)
            return {"a": a, "b": mag | ((a & U64(sp.sign_bit)) ^ U64(sp.sign_bit))}

        def align(m, rng):  # exponent distances around the guard bits: halfway cases when frac = 0
            fa = self._fields(rng, m, 1, sp.emax_field)
            fb = self._clip(fa - rng.integers(0, sp.P + 5, m))
            return {"a": self._compose(self._signs(rng, m), fa, self._frac(rng, m)),
                    "b": self._compose(self._signs(rng, m), fb, self._frac(rng, m))}

        def tiny(m, rng):  # subnormal and near-minimum normal operands
            return {p: self._compose(self._signs(rng, m), self._fields(rng, m, 0, 2), self._frac(rng, m))
                    for p in ("a", "b")}

        def huge(m, rng):  # near the overflow threshold, same signs
            s = self._signs(rng, m)
            return {p: self._compose(s, self._fields(rng, m, sp.emax_field - 1, sp.emax_field), self._frac(rng, m))
                    for p in ("a", "b")}

        return [cancel, align, tiny, huge]

    def _product_fields(self, rng, m, target):
        """Operand fields whose product's biased exponent is near ``target`` (an array)."""
        sp = self.src_sp
        fa = self._fields(rng, m, 0, sp.emax_field)
        fb = self._clip(target - fa + sp.bias)
        return fa, fb

    def _kinds_mul(self):
        sp = self.src_sp

        def under(m, rng):
            fa, fb = self._product_fields(rng, m, rng.integers(-sp.P - 3, 3, m))
            return {"a": self._compose(self._signs(rng, m), fa, self._frac(rng, m)),
                    "b": self._compose(self._signs(rng, m), fb, self._frac(rng, m))}

        def over(m, rng):
            fa, fb = self._product_fields(rng, m, sp.emax_field + rng.integers(-2, 2, m))
            return {"a": self._compose(self._signs(rng, m), fa, self._frac(rng, m)),
                    "b": self._compose(self._signs(rng, m), fb, self._frac(rng, m))}

        def ties(m, rng):  # 1.5 * odd significand: the product has one bit beyond p, exactly half
            fa, fb = self._product_fields(rng, m, self._fields(rng, m, 1, sp.emax_field))
            odd = self._bits(rng, m, sp.F) | U64(1)
            return {"a": self._compose(self._signs(rng, m), fa, np.full(m, 1 << (sp.F - 1), dtype=U64)),
                    "b": self._compose(self._signs(rng, m), fb, odd)}

        def sub(m, rng):  # subnormal times normal, the product anywhere or near the bottom of the range
            fb = np.where(rng.random(m) < 0.5, self._fields(rng, m, 1, sp.emax_field),
                          self._clip(sp.bias + rng.integers(-sp.P - 2, sp.P + 3, m)))
            frac = self._frac(rng, m) >> rng.integers(0, sp.F, m).astype(U64)  # leading zeros of every count
            return {"a": self._compose(self._signs(rng, m), np.zeros(m, dtype=np.int64), frac),
                    "b": self._compose(self._signs(rng, m), fb, self._frac(rng, m))}

        return [under, over, ties, sub]

    def _kinds_div(self):
        sp = self.src_sp
        model = Exact(self.fmt)

        def exact(m, rng):  # a = b * q with a short q: the quotient is exact (or just beyond range)
            b = self._compose(self._signs(rng, m), self._fields(rng, m, 0, sp.emax_field), self._frac(rng, m))
            qf = self._bits(rng, m, sp.F) & ~U64((1 << max(sp.F - 3, 0)) - 1)
            q = self._compose(self._signs(rng, m), self._clip(sp.bias + rng.integers(-sp.P, sp.P + 1, m)), qf)
            return {"a": np.array([model.mul(int(x), int(y))[0] for x, y in zip(b, q)], dtype=U64), "b": b}

        def edges(m, rng):  # quotient exponent near underflow or overflow
            fb = self._fields(rng, m, 0, sp.emax_field)
            target = np.where(rng.random(m) < 0.5, rng.integers(-sp.P - 2, 3, m), sp.emax_field + rng.integers(-1, 2, m))
            fa = self._clip(target + fb - sp.bias)
            return {"a": self._compose(self._signs(rng, m), fa, self._frac(rng, m)),
                    "b": self._compose(self._signs(rng, m), fb, self._frac(rng, m))}

        return [exact, edges, self._kinds_mul()[3]]

    def _kinds_fma(self):
        sp = self.src_sp
        model = Exact(self.fmt)
        mul_kinds = self._kinds_mul()

        def with_c(kind, cfun):
            def gen(m, rng):
                ab = kind(m, rng)
                return {**ab, "c": cfun(ab, m, rng)}
            return gen

        def near_minus_product(ab, m, rng):  # cancellation: c = -(a*b rounded) +- a few ulps
            p = np.array([model.mul(int(x), int(y))[0] for x, y in zip(ab["a"], ab["b"])], dtype=U64)
            k = rng.integers(-2, 3, m)
            mag = np.clip((p & U64(sp.mag_mask)).astype(np.int64) + k, 0, sp.max_finite).astype(U64)
            return mag | ((p & U64(sp.sign_bit)) ^ U64(sp.sign_bit))

        def far(ab, m, rng):  # c far above, far below or beside the product
            return self._compose(self._signs(rng, m), self._fields(rng, m, 0, sp.emax_field), self._frac(rng, m))

        def tiny(ab, m, rng):
            return self._compose(self._signs(rng, m), self._fields(rng, m, 0, 2), self._frac(rng, m))

        def plain(m, rng):
            return {p: self._compose(self._signs(rng, m), self._fields(rng, m, 0, sp.emax_field), self._frac(rng, m))
                    for p in ("a", "b")}

        return [with_c(plain, near_minus_product), with_c(mul_kinds[0], tiny), with_c(mul_kinds[1], near_minus_product),
                with_c(mul_kinds[2], far), with_c(mul_kinds[3], tiny), with_c(plain, far)]

    def _kinds_sqrt(self):
        sp = self.src_sp
        model = Exact(self.fmt)

        def squares(m, rng):  # c * c for a short c: exact roots (and their neighbours)
            cf = self._bits(rng, m, sp.F) & ~U64((1 << max(sp.F - sp.F // 2 + 1, 0)) - 1)
            c = self._compose(np.zeros(m, dtype=np.int64), self._fields(rng, m, 1, sp.emax_field), cf)
            sq = np.array([model.mul(int(x), int(x))[0] for x in c], dtype=U64)
            k = rng.integers(-1, 2, m)
            return {"a": np.clip(sq.astype(np.int64) + k, 0, sp.max_finite).astype(U64)}

        def small(m, rng):
            return {"a": self._compose(self._signs(rng, m), self._fields(rng, m, 0, 2), self._frac(rng, m))}

        def positive(m, rng):
            return {"a": self._compose(np.zeros(m, dtype=np.int64), self._fields(rng, m, 0, sp.emax_field),
                                       self._frac(rng, m))}

        return [squares, small, positive]

    def _kinds_compare(self):
        sp = self.src_sp

        def near(m, rng):  # equal, negated, adjacent
            a = self._compose(self._signs(rng, m), self._fields(rng, m, 0, sp.emax_field), self._frac(rng, m))
            pick = rng.integers(0, 4, m)
            b = np.where(pick == 0, a, np.where(pick == 1, a ^ U64(sp.sign_bit),
                                                np.where(pick == 2, a + U64(1), a - U64(1))))
            return {"a": a, "b": b & U64((1 << sp.N) - 1)}

        def zeros(m, rng):
            z = self._compose(self._signs(rng, m), np.zeros(m, dtype=np.int64), np.where(rng.random(m) < 0.5, 0, 1))
            return {"a": z, "b": self._compose(self._signs(rng, m), np.zeros(m, dtype=np.int64),
                                               np.where(rng.random(m) < 0.5, 0, 1))}

        return [near, zeros]

    def _kinds_convert(self):
        sp, dst = self.src_sp, self.dst
        if not dst.is_float:
            return self._to_int_kinds()
        dsp = FloatSpec(dst)
        shift = max(sp.F - dsp.F, 0)

        def rounding(m, rng):  # the bits dropped by the target: halfway, just above/below, zero
            frac = self._bits(rng, m, sp.F)
            low = rng.integers(0, 4, m)
            half = 1 << shift >> 1
            tail = np.where(low == 0, half, np.where(low == 1, half + 1, np.where(low == 2, max(half - 1, 0), 0)))
            frac = (frac >> U64(shift) << U64(shift)) | tail.astype(U64)
            f = self._clip(dsp.bias * 0 + sp.bias + rng.integers(dsp.emin - 1, dsp.emax_field - dsp.bias + 1, m))
            return {"a": self._compose(self._signs(rng, m), f, frac)}

        def range_edges(m, rng):  # around the target's overflow and underflow thresholds
            top = dsp.emax_field - dsp.bias + sp.bias
            bottom = dsp.emin - dsp.P + sp.bias
            f = np.where(rng.random(m) < 0.5, top + rng.integers(-1, 2, m), bottom + rng.integers(-2, dsp.P + 2, m))
            return {"a": self._compose(self._signs(rng, m), self._clip(f), self._frac(rng, m))}

        return [rounding, range_edges]

    def _to_int_kinds(self):
        sp, n = self.src_sp, self.dst.bits

        def near_integers(m, rng):  # i + {0, 1/4, 1/2, 3/4, tiny} for integers across the range
            out = []
            for _ in range(m):
                k = int(rng.integers(0, n + 1))
                i = int(rng.integers(0, 1 << min(k, 62))) << max(k - 62, 0)
                frac_num = int(rng.choice([0, 1, 2, 3, 5]))
                bits, _ = round_pack(int(rng.integers(0, 2)), 8 * i + 2 * frac_num if frac_num < 5 else 8 * i + 1, -3,
                                     False, sp, "rne", False) if (i or frac_num) else (0, 0)
                out.append(bits)
            return {"a": np.array(out, dtype=U64)}

        def range_edges(m, rng):
            f = sp.bias + n - 1 + rng.integers(-2, 2, m)
            return {"a": self._compose(self._signs(rng, m), self._clip(f), self._frac(rng, m))}

        return [near_integers, range_edges]

    def _int_boundary(self, m, rng):
        """int -> float: integers around powers of two with tails at the target's rounding point."""
        n = self.fmt.bits
        dsp = FloatSpec(self.dst)
        k = rng.integers(1, n, m)
        out = []
        for kk in k:
            kk = int(kk)
            base = 1 << (kk - 1)
            cut = max(kk - dsp.P, 0)
            tail = int(rng.choice([0, 1 << cut >> 1, (1 << cut >> 1) + 1, max((1 << cut >> 1) - 1, 0)])) if cut else 0
            body = int(rng.integers(0, 1 << min(max(kk - 1 - cut, 0), 62))) << cut if kk > 1 else 0
            v = (base | body | tail) & ((1 << (kk)) - 1) if kk < n else base
            if rng.random() < 0.5 and v:
                v = (-v) % (1 << n)
            out.append(v % (1 << n))
        return {"a": np.array(out, dtype=U64)}


def unit_vectors(op: str):
    """The registry's vectors factory: ``(format, rounding=..., ftz=..., to=..., **roles) -> FloatStimulus``."""

    def factory(fmt: NumberFormat, rounding: str = "rne", ftz: bool = False, to=None, **_params):
        return FloatStimulus(op, fmt, rounding, ftz, to)

    return factory
