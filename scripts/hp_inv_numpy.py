#!/usr/bin/env python3
"""HP-INV in NumPy: the same algorithm as `rram_sim::hp_inv`, for a side-by-side timing.

It mirrors crates/rram-sim (defaults of HpInvConfig, DeviceParams::taox_3bit and
PeripheryParams::default) step by step, vectorised the way a NumPy user would write it:

1. Program G on the INV array: levels round(7 v / max|G|) on differential pairs, every device
   by write-verify (first pulse N(0, 4.78 - 0.0091 G), corrective pulses until |error| <= 0.1 uS
   or 20 pulses), then first-order IR drop; the INV loop matrix with finite op-amp gain.
2. Program the 10 signed-digit slices of G on HP-MVM arrays the same way, measure each slice's
   worst partial-sum error, and use the exact (digitally recovered) product A_q x_q.
3. Estimate rho(I - G M^-1) by 40 power-iteration steps; refuse if >= 1.
4. Iterate: delta = LP-INV(r) (7-bit DAC, read noise, 9-bit ADC), x += delta,
   r = b - HP-MVM(x) (32-bit inputs, bit-serial), stop at ||r|| / ||b|| <= 2^-24
   (with rram-sim's margin for HP-MVM's own error).
   Energies per operation are booked as in rram-sim (array V^2 G t, DAC, ADC, op-amps, digital).

The LP-INV uses np.linalg.inv once (NumPy has no LU solve without SciPy) and a matrix-vector
product per application. Random streams differ from rram-sim's, distributions do not.

Usage: python3 scripts/hp_inv_numpy.py [n ...] [--reps R]   (default: 1024 2048, 3 reps)
Prints one line per size with the median wall time; `--json` prints JSON instead.
"""

import json
import math
import sys
import time

import numpy as np

# DeviceParams::taox_3bit
G_MIN, G_MAX, BITS = 0.5, 35.0, 3
PROG_ICPT, PROG_SLOPE = 4.78, -0.0091
VERIFY_STEP, VERIFY_FLOOR, VERIFY_TOL, MAX_PULSES = 0.35, 0.01, 0.1, 20
WRITE_V, WRITE_NS, READ_V, READ_NS, READ_NOISE = 3.0, 10.0, 0.1, 10.0, 0.025
# PeripheryParams::default
DAC_BITS, ADC_BITS, DAC_PJ_PER_LEVEL, DAC_NS = 7, 9, 0.19 / 15.0, 1.0
OPAMP_GAIN, OPAMP_GBW, OPAMP_UW, ADD_PJ, DIGITAL_NS, WIRE_OHM = 1e4, 30e6, 100.0, 0.1, 1.0, 0.5
# HpInvConfig::default
SLICES, INPUT_BITS, INPUT_SLICE_BITS, ROWS_PER_ADC, MAX_ITER, TOL = 10, 32, 1, 8, 30, 2.0**-24

Q = 2**BITS - 1
STEP_US = (G_MAX - G_MIN) / Q


def adc_energy_pj(bits):
    return (0.538 * bits + 4.38) * (bits + 1) * 1e-3


def program(targets, rng):
    """Write-verify of every device; returns conductances, pulses and the ledger parts."""
    sigma = np.maximum(PROG_ICPT + PROG_SLOPE * targets, 0.0)
    e = sigma * rng.standard_normal(targets.shape)
    pulses = np.ones(targets.shape, dtype=np.int32)
    flat_e, flat_p = e.reshape(-1), pulses.reshape(-1)
    active = np.flatnonzero(np.abs(flat_e) > VERIFY_TOL)
    p = 1
    floor2 = VERIFY_FLOOR * VERIFY_FLOOR
    while active.size and p < MAX_PULSES:
        s = flat_e[active] * VERIFY_STEP
        ea = np.sqrt(s * s + floor2) * rng.standard_normal(active.size)
        flat_e[active] = ea
        flat_p[active] += 1
        p += 1
        active = active[np.abs(ea) > VERIFY_TOL]
    g = np.maximum(targets + e, 0.0)
    write_e = WRITE_V**2 * WRITE_NS * 1e-3
    read_e = READ_V**2 * READ_NS * 1e-3
    weighted = float(np.sum(pulses * targets))
    ledger = {
        "write_driver": weighted * write_e,
        "array": weighted * read_e,
        "adc": float(pulses.sum()) * adc_energy_pj(ADC_BITS),
        "latency_ns": float(pulses.max(axis=-1).sum()) * (WRITE_NS + READ_NS + ADC_BITS + 1),
    }
    return g, pulses, ledger


def program_pairs(levels, rng):
    """Differential pairs for signed levels: the sign's side at G_min + |l| dG, the other at G_min."""
    on = G_MIN + np.abs(levels) * STEP_US
    pos = np.where(levels >= 0, on, G_MIN)
    neg = np.where(levels >= 0, G_MIN, on)
    both = np.stack([pos, neg])
    g, pulses, ledger = program(both, rng)
    return g[0], g[1], pulses, ledger


def digits(a, i):
    """Signed digit i of a (normalised to [-1, 1]), as quantize::digit."""
    hi = np.round(a * Q * 2.0 ** (BITS * i))
    if i == 0:
        return hi
    return hi - np.round(a * Q * 2.0 ** (BITS * (i - 1))) * 2.0**BITS


def sliced_value(a, slices):
    denom = Q * 2.0 ** (BITS * (slices - 1))
    return np.round(a * denom) / denom


def quantize_signed(x, fs, bits):
    q = 2**bits - 1
    return np.clip(np.round(x / fs * q), -q, q) if fs > 0 else np.zeros_like(x)


def adc_round(y, bits):
    fs = np.abs(y).max()
    if fs == 0 or not np.isfinite(fs):
        return y
    step = fs / (2 ** (bits - 1) - 1)
    return np.round(y / step) * step


def hp_inv(g, b, seed=0):
    n = g.shape[0]
    rng = np.random.default_rng(seed)
    if not (np.isfinite(g).all() and np.isfinite(b).all()):
        raise ValueError("non-finite input")
    # 1. INV array: write, effective matrix with IR drop, loop matrix.
    w_max = np.abs(g).max()
    levels = np.clip(np.round(g / w_max * Q), -Q, Q)
    gp, gn, pulses_inv, prog_inv = program_pairs(levels, rng)
    idx = np.arange(n)
    wire = WIRE_OHM * 1e-6 * (idx[:, None] + idx[None, :] + 2)
    gp = gp / (1 + gp * wire)
    gn = gn / (1 + gn * wire)
    value_per_us = w_max / (Q * STEP_US)
    eff = (gp - gn) * value_per_us
    line_g = (gp + gn).sum(axis=0)
    loop = eff / w_max
    loop[idx, idx] += (1.0 + np.abs(loop).sum(axis=1)) / OPAMP_GAIN
    loop_inv = np.linalg.inv(loop)
    if not np.isfinite(loop_inv).all():
        raise ValueError("g is singular on the array")
    v = np.full(n, 1 / math.sqrt(n))
    lam = 1.0
    for _ in range(20):
        v = loop_inv @ v
        nv = np.linalg.norm(v)
        lam = 1 / nv
        v /= nv
    # 2. HP-MVM slices.
    a = g / w_max
    bounds, colsums, prog_mvm = [], [], []
    for i in range(SLICES):
        d = digits(a, i)
        sp, sn, _, led = program_pairs(d, rng)
        analog = (sp - sn) / STEP_US
        colsums.append((sp + sn).sum(axis=0))
        err = np.abs(analog - d)
        grouped = np.add.reduceat(err, np.arange(0, n, ROWS_PER_ADC), axis=1)
        bounds.append(grouped.max())
        prog_mvm.append(led)
    a_q = sliced_value(a, SLICES) * w_max
    colsums = np.array(colsums)
    margin = 0.5 - max(bounds)
    sigma = math.sqrt(2 * ROWS_PER_ADC) * READ_NOISE / STEP_US
    conversions = SLICES * INPUT_BITS * n * math.ceil(n / ROWS_PER_ADC)
    p_err = 1.0 if margin <= 0 else math.erfc(margin / (sigma * math.sqrt(2)))
    exact = p_err * conversions * MAX_ITER < 1e-6
    if not exact:
        raise RuntimeError("explicit HP-MVM mode is not mirrored here")
    # 3. Spectral radius of I - G M^-1 (ideal operator).
    v = np.random.default_rng(seed ^ 0x53504543).standard_normal(n)
    v /= np.linalg.norm(v)
    log_growth = 0.0
    for it in range(40):
        w = loop_inv @ (v / w_max)
        v = v - g @ w
        nv = np.linalg.norm(v)
        if it >= 20:
            log_growth += math.log(nv)
        v /= nv
    rho = math.exp(log_growth / 20)
    if rho >= 1:
        raise RuntimeError(f"diverges: rho {rho:.3f}")
    # 4. Refinement.
    settle = (ADC_BITS + 1) * math.log(2) / (2 * math.pi * OPAMP_GBW * lam) * 1e9
    range_us = G_MAX - G_MIN
    qb = 2**INPUT_BITS - 1
    bit_weights = 2 ** np.arange(INPUT_BITS, dtype=np.uint64)
    adc_bits = math.ceil(math.log2(2 * ROWS_PER_ADC * Q * 1 + 1))
    energy = {"array": 0.0, "dac": 0.0, "adc": 0.0, "opamp": 0.0, "digital": 0.0, "latency_ns": 0.0}
    bnorm = np.linalg.norm(b)
    x = np.zeros(n)
    r = b.copy()
    residuals = []
    measured_prev = None
    for _ in range(MAX_ITER):
        # LP-INV on the array.
        fs = np.abs(r).max()
        xr = quantize_signed(r, fs, DAC_BITS) * fs / (2**DAC_BITS - 1) / w_max
        delta = loop_inv @ xr
        sig = READ_NOISE / range_us * math.sqrt(2) * np.linalg.norm(delta)
        delta = delta + loop_inv @ (sig * rng.standard_normal(n))
        delta = adc_round(delta, ADC_BITS)
        xs = np.abs(delta).max()
        volts = delta / xs * READ_V if xs > 0 else np.zeros(n)
        energy["array"] += float(np.sum(volts**2 * line_g)) * settle * 1e-3
        energy["dac"] += n * DAC_PJ_PER_LEVEL * (2**DAC_BITS - 1)
        energy["adc"] += n * adc_energy_pj(ADC_BITS)
        energy["opamp"] += 2 * n * OPAMP_UW * settle * 1e-3
        energy["digital"] += 2 * n * ADD_PJ
        energy["latency_ns"] += DAC_NS + settle + ADC_BITS + 1 + DIGITAL_NS
        x = x + delta
        # HP-MVM, exact mode: A_q x_q, energy from the bit-serial input digits.
        fsx = np.abs(x).max()
        n_int = quantize_signed(x, fsx, INPUT_BITS)
        y = a_q @ (n_int * fsx / qb)
        mags = np.abs(n_int).astype(np.uint64)
        bits = ((mags[None, :] & bit_weights[:, None]) != 0).astype(np.float64)  # 32 x n
        v_unit = READ_V
        energy["array"] += float(((bits * v_unit**2) @ colsums.sum(axis=0)).sum()) * READ_NS * 1e-3
        conv = SLICES * INPUT_BITS * n * math.ceil(n / ROWS_PER_ADC)
        energy["adc"] += conv * adc_energy_pj(adc_bits)
        energy["dac"] += SLICES * INPUT_BITS * n * DAC_PJ_PER_LEVEL
        energy["digital"] += (conv + 2 * n) * ADD_PJ
        r = b - y
        measured = np.linalg.norm(r) / bnorm
        residuals.append(np.linalg.norm(b - g @ x) / bnorm)
        # Stop rule of rram-sim's Refiner::reached: measured + 3 x HP-MVM's error estimate,
        # or, where that margin is out of reach, measured <= tol and no longer improving.
        e_w = w_max / (2 * Q * 2.0 ** (BITS * (SLICES - 1)))
        e_x = fsx / (2 * qb)
        est = math.hypot(e_w * np.linalg.norm(x) * math.sqrt(n), e_x * w_max * n) / math.sqrt(3) / bnorm
        if measured + 3 * est <= TOL:
            break
        if measured <= TOL and 3 * est > 0.5 * TOL and measured_prev is not None and measured > 0.5 * measured_prev:
            break
        measured_prev = measured
    return x, residuals, rho, energy


def system(n, seed):
    """G = I + (0.5 / sqrt n) U, U uniform in [-1, 1] (as examples/numbers.rs)."""
    rng = np.random.default_rng(seed)
    g = np.eye(n) + 0.5 / math.sqrt(n) * rng.uniform(-1, 1, (n, n))
    b = rng.uniform(-1, 1, n)
    return g, b


def main():
    args = sys.argv[1:]
    reps = 3
    if "--reps" in args:
        k = args.index("--reps")
        reps = int(args[k + 1])
        del args[k : k + 2]
    as_json = "--json" in args
    sizes = [int(a) for a in args if not a.startswith("--")] or [1024, 2048]
    out = []
    for n in sizes:
        g, b = system(n, 7)
        times = []
        for rep in range(reps):
            t = time.perf_counter()
            _, residuals, rho, _ = hp_inv(g, b, seed=rep)
            times.append(time.perf_counter() - t)
        row = {
            "n": n,
            "median_s": float(np.median(times)),
            "times_s": times,
            "iterations": len(residuals),
            "final_residual": float(residuals[-1]),
            "rho": rho,
        }
        out.append(row)
        if not as_json:
            print(
                f"numpy hp_inv n={n}: median {row['median_s']:.3f} s over {reps} "
                f"({', '.join(f'{t:.3f}' for t in times)}), {row['iterations']} it, "
                f"residual {row['final_residual']:.2e}, rho {rho:.3f}"
            )
    if as_json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
