"""Measure how often a tile calls a change "clear" when nothing changed, and when it did.

Usage: python benchmarks/clear_changes.py [--pairs 20000] [--seed 1]

Draws pairs of months of raw observations for each kind of sample the tiles judge by sampling
error (metric_definitions.sampling): a share of counted units (binomial), a net score
(promoters minus detractors) and a mean of skewed observations (handle times). Sizes are drawn
log-uniformly between each metric's minimum and 30,000. Each pair is judged by the rule of
kpi_headlines.is_change_clear: |change| > z * sqrt(se1^2 + se2^2), with the standard errors
metric_channel_month computes (tests/sql/test_clear_changes.py holds the SQL to these formulas).
Prints, per kind, the false "clear" rate with no true change and the share of true changes
called clear, by size of change; docs/methodology.md#clear-changes quotes them.
"""

from __future__ import annotations

import argparse

import numpy as np

Z_95 = 1.959963984540054


def _sizes(rng: np.random.Generator, low: int, pairs: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(30_000), pairs)).astype(int)


def binomial(rng, pairs: int, shift: float) -> np.ndarray:
    """A share of counted units (first-contact resolution, promises kept, tasks within SLA)."""
    p = rng.uniform(0.1, 0.9, pairs)
    n1, n2 = _sizes(rng, 30, pairs), _sizes(rng, 30, pairs)
    a, b = rng.binomial(n1, p) / n1, rng.binomial(n2, np.clip(p + shift, 0, 1)) / n2
    se = np.sqrt(a * (1 - a) / n1 + b * (1 - b) / n2)
    return np.abs(b - a) > Z_95 * se


def _net(rng, n: np.ndarray, promoters: np.ndarray, detractors: np.ndarray):
    shares = zip(n, promoters, detractors, strict=True)
    draws = [rng.multinomial(k, [pp, pd, 1 - pp - pd]) for k, pp, pd in shares]
    counts = np.array(draws)
    share_p, share_d = counts[:, 0] / n, counts[:, 1] / n
    score = 100 * (share_p - share_d)
    se = 100 * np.sqrt(share_p + share_d - (share_p - share_d) ** 2) / np.sqrt(n)
    return score, se


def net_score(rng, pairs: int, shift: float) -> np.ndarray:
    """NPS: shift moves points from detractors to promoters (a shift of 0.05 is 10 NPS points)."""
    promoters = rng.uniform(0.15, 0.5, pairs)
    detractors = rng.uniform(0.1, 0.45, pairs) * (1 - promoters)
    n1, n2 = _sizes(rng, 30, pairs), _sizes(rng, 30, pairs)
    s1, se1 = _net(rng, n1, promoters, detractors)
    moved = np.minimum(shift, detractors)
    s2, se2 = _net(rng, n2, promoters + moved, detractors - moved)
    return np.abs(s2 - s1) > Z_95 * np.sqrt(se1**2 + se2**2)


def mean(rng, pairs: int, shift: float) -> np.ndarray:
    """Handle time: log-normal seconds (median about 5 minutes, long right tail)."""
    clear = np.empty(pairs, dtype=bool)
    sizes = np.stack([_sizes(rng, 30, pairs), _sizes(rng, 30, pairs)], axis=1)
    for i, (n1, n2) in enumerate(sizes):
        a = rng.lognormal(np.log(300), 0.6, n1)
        b = rng.lognormal(np.log(300 * (1 + shift)), 0.6, n2)
        se = np.sqrt(a.var(ddof=1) / n1 + b.var(ddof=1) / n2)
        clear[i] = abs(b.mean() - a.mean()) > Z_95 * se
    return clear


KINDS = {
    # kind: (judge, the true changes drawn, how a change is written)
    "binomial": (binomial, (0.0, 0.01, 0.03, 0.05), lambda s: f"{100 * s:.0f} pts"),
    "net_score": (net_score, (0.0, 0.01, 0.025, 0.05), lambda s: f"{200 * s:.0f} NPS pts"),
    "mean": (mean, (0.0, 0.01, 0.03, 0.10), lambda s: f"{100 * s:.0f}%"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{args.pairs:,} month pairs per kind and change; share called clear")
    for kind, (judge, shifts, written) in KINDS.items():
        pairs = args.pairs if kind != "mean" else args.pairs // 10
        cells = []
        for shift in shifts:
            rate = judge(rng, pairs, shift).mean()
            cells.append(f"{'no change' if shift == 0 else written(shift)}: {rate:.1%}")
        print(f"{kind:10} ({pairs:,} pairs)  " + " · ".join(cells))


if __name__ == "__main__":
    main()
