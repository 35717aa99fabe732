#!/usr/bin/env python3
"""Reference fixtures for the questionnaire statistics in src/domain/survey.rs.

Run from the repository root:
    python3 -m venv .venv && .venv/bin/pip install numpy scipy statsmodels pandas \
        && .venv/bin/python scripts/reference/survey.py

Writes (deterministically: fixed seeds, no clock) tests/fixtures/survey/stats.json with the
package versions used and these sections, each a list of cases:
  scale         hand-checkable scale scores (reverse-keyed items, missing values, mean and sum,
                min_items);
  cronbach      Cronbach's alpha on complete cases, with the corrected item-total correlation and
                alpha-if-item-deleted per item (numpy formulas; one case is checked by hand below);
  descriptives  n, mean, SD (ddof=1) and the t-based 95% CI of the mean (scipy.stats.t.ppf);
  welch         scipy.stats.ttest_ind(later, earlier, equal_var=False): t, p, df, and the
                difference of means with its 95% CI (checked against the Welch-Satterthwaite
                formula written out here);
  hedges        Hedges' g of later vs earlier (formula below);
  anova         statsmodels anova_lm(ols("score ~ C(wave) * C(group)").fit(), typ=2), raw data
                included; for designs with an empty cell, the expected figures are model
                comparisons of separately fitted ols models (see `anova_empty_cell`);
  distributions Student t cdf and quantile, F survival function (scipy.stats).
An undefined figure (nan or inf from the reference, or a degenerate input) is JSON null.
"""
import json, math, os, warnings
from importlib.metadata import version

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "survey")
VERSIONS = {p: version(p) for p in ("numpy", "scipy", "statsmodels", "pandas")}

# A standard deviation this small relative to the largest |value| counts as zero (as in survey.rs).
REL_TOL = 1e-12


def num(x):
    """A float for JSON, or None when it is nan/inf (undefined)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def degenerate(sd, values):
    scale = float(np.max(np.abs(values))) if len(values) else 0.0
    return not sd > REL_TOL * scale


# ---------------------------------------------------------------- scale scores
def scale_score(values, reversed_items, lo, hi, scoring, min_items):
    """Reverse item value = lo + hi - value. Missing (None) or out-of-range values are not answered.
    The score is the mean (or the sum) of the answered items when at least min_items (default: all
    items) are answered and at least one is."""
    answered = [lo + hi - v if i in reversed_items else v
                for i, v in enumerate(values) if v is not None and lo <= v <= hi]
    need = len(values) if min_items is None else min_items
    if not answered or len(answered) < need:
        return None
    return float(sum(answered) / len(answered)) if scoring == "mean" else float(sum(answered))


def scale_cases():
    # (name, values, reversed, min, max, scoring, min_items, hand-computed expectation)
    raw = [
        ("plain_mean", [4, 5, 3, 4], [], 1, 5, "mean", None, 4.0),
        ("plain_sum", [4, 5, 3, 4], [], 1, 5, "sum", None, 16.0),
        # item 1 reversed: 6 - 2 = 4, item 3: 6 - 1 = 5 -> (5 + 4 + 3 + 5) / 4 = 4.25
        ("reverse_mean", [5, 2, 3, 1], [1, 3], 1, 5, "mean", None, 4.25),
        ("reverse_sum", [5, 2, 3, 1], [1, 3], 1, 5, "sum", None, 17.0),
        # 0-10 range: reverse 7 -> 3; (3 + 9 + 6) / 3 = 6
        ("reverse_range_0_10", [7, 9, 6], [0], 0, 10, "mean", None, 6.0),
        ("missing_default_all_items", [4, None, 3, 4], [], 1, 5, "mean", None, None),
        # 3 of 4 answered, min 3: (4 + 3 + 4) / 3
        ("missing_min_items_mean", [4, None, 3, 4], [], 1, 5, "mean", 3, 11 / 3),
        # sum of the answered items only (not prorated): 4 + 3 + 4
        ("missing_min_items_sum", [4, None, 3, 4], [], 1, 5, "sum", 3, 11.0),
        ("too_few_answered", [4, None, None, 4], [], 1, 5, "mean", 3, None),
        # item 1 missing, item 2 reversed (6 - 4 = 2): (2 + 2) / 2
        ("missing_with_reverse", [2, None, 4], [2], 1, 5, "mean", 2, 2.0),
        ("all_missing_min0", [None, None], [], 1, 5, "mean", 0, None),
        ("empty", [], [], 1, 5, "mean", None, None),
        # 7 is out of the 1..5 range: not answered
        ("out_of_range_is_missing", [4, 7, 2], [], 1, 5, "mean", 2, 3.0),
        ("half_points", [1.5, 4.5], [1], 1, 5, "mean", None, 1.5),
    ]
    out = []
    for name, values, rev, lo, hi, scoring, min_items, want in raw:
        got = scale_score(values, rev, lo, hi, scoring, min_items)
        assert (got is None and want is None) or abs(got - want) < 1e-12, (name, got, want)
        out.append({"name": name, "values": values, "reversed": rev, "min": lo, "max": hi,
                    "scoring": scoring, "min_items": min_items, "score": got})
    return out


# ---------------------------------------------------------------- Cronbach's alpha
def alpha_of(m):
    """alpha = k/(k-1) * (1 - sum var(item) / var(total)), sample variances; None if undefined."""
    k = m.shape[1]
    if k < 2 or m.shape[0] < 2:
        return None
    total = m.sum(axis=1)
    vt = total.var(ddof=1)
    if degenerate(math.sqrt(vt), total):
        return None
    return float(k / (k - 1) * (1 - m.var(axis=0, ddof=1).sum() / vt))


def item_total(x, rest):
    if degenerate(x.std(ddof=1), x) or degenerate(rest.std(ddof=1), rest):
        return None
    return float(np.corrcoef(x, rest)[0, 1])


def cronbach(rows):
    k = max((len(r) for r in rows), default=0)
    complete = [r for r in rows if len(r) == k and all(v is not None for v in r)]
    m = np.array(complete, dtype=float).reshape(len(complete), k)
    a = alpha_of(m)
    items = []
    if a is not None:
        for j in range(k):
            rest = np.delete(m, j, axis=1)
            items.append({"item_total": item_total(m[:, j], rest.sum(axis=1)),
                          "alpha_if_deleted": alpha_of(rest)})
    return {"alpha": a, "complete": len(complete), "items": items}


def likert_block(rng, n, k, loading, lo=1, hi=5, reverse=(), missing=0.0):
    """n respondents x k items: a common factor plus noise, rounded into lo..hi; reverse-keyed items
    are stored reversed (as answered); a share `missing` of cells is None."""
    f = rng.normal(size=n)
    x = loading * f[:, None] + rng.normal(size=(n, k))
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    v = np.clip(np.round(mid + half * x / 2), lo, hi)
    for j in reverse:
        v[:, j] = lo + hi - v[:, j]
    rows = [[int(c) for c in r] for r in v]
    for r in rows:
        for j in range(k):
            if rng.random() < missing:
                r[j] = None
    return rows


def cronbach_cases():
    # Checked by hand: items x1 = 1,2,3,4; x2 = 2,2,4,4; x3 = 1,3,3,5. Item variances 5/3, 4/3, 8/3
    # (sum 17/3); totals 4,7,10,13 have variance 45/3 = 15; alpha = 3/2 * (1 - (17/3)/15) = 14/15.
    hand = [[1, 2, 1], [2, 2, 3], [3, 4, 3], [4, 4, 5]]
    assert abs(cronbach(hand)["alpha"] - 14 / 15) < 1e-12
    cases = [("hand_checked_3x4", hand)]
    specs = [("k3_n20", 3, 20, 1.0, (), 0.0),
             ("k5_n50_missing", 5, 50, 1.2, (), 0.04),
             ("k6_n120_reverse_item_already_reversed", 6, 120, 1.0, (), 0.0),
             ("k8_n200_missing", 8, 200, 0.8, (), 0.02),
             ("k10_n300", 10, 300, 1.5, (), 0.0),
             ("k4_n30_weak", 4, 30, 0.2, (), 0.0)]
    for seed, (name, k, n, loading, rev, miss) in enumerate(specs, start=101):
        rng = np.random.default_rng(seed)
        if "reverse" in name:
            # item 2 was reverse-keyed: answered reversed, then reversed back before alpha
            rows = likert_block(rng, n, k, loading, reverse=(2,))
            rows = [[6 - v if j == 2 else v for j, v in enumerate(r)] for r in rows]
        else:
            rows = likert_block(rng, n, k, loading, missing=miss)
        cases.append((name, rows))
    # every respondent's total is 6: var(total) = 0, alpha undefined
    cases.append(("constant_total_degenerate", [[1, 5], [2, 4], [3, 3], [5, 1]]))
    cases.append(("one_complete_row", [[1, 2, 3], [2, None, 3], [4, 4, None]]))
    cases.append(("single_item", [[1], [2], [3]]))
    out = []
    for name, rows in cases:
        out.append({"name": name, "rows": rows, **cronbach(rows)})
    return out


# ---------------------------------------------------------------- descriptives
def describe(x):
    x = np.asarray(x, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else None
    sd = float(x.std(ddof=1)) if n >= 2 else None
    ci = None
    if n >= 2:
        h = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
        ci = [mean - h, mean + h]
    return {"n": n, "mean": mean, "sd": sd, "ci": ci}


def sample(rng, n, mu, sd):
    return [round(float(v), 2) for v in rng.normal(mu, sd, n)]


def descriptives_cases():
    rng = np.random.default_rng(7)
    cases = [("empty", []), ("single", [3.5]), ("two", [2.0, 4.0]), ("constant", [3.0] * 6),
             ("n10", sample(rng, 10, 3.2, 0.8)), ("n57", sample(rng, 57, 3.6, 0.6)),
             ("n400", sample(rng, 400, 2.9, 1.1)), ("large_values", sample(rng, 30, 1200.0, 150.0))]
    return [{"name": name, "values": x, **describe(x)} for name, x in cases]


# ---------------------------------------------------------------- Welch and Hedges
def welch(earlier, later):
    a, b = np.asarray(later, dtype=float), np.asarray(earlier, dtype=float)
    null = {"t": None, "df": None, "p": None, "difference": None, "ci": None}
    if len(a) < 2 or len(b) < 2:
        return null
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if degenerate(math.sqrt(va + vb), np.concatenate([a, b])):
        return null
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.ttest_ind(a, b, equal_var=False)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    assert abs(df - res.df) < 1e-9 * df, (df, res.df)
    diff = a.mean() - b.mean()
    h = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    ci = res.confidence_interval(0.95)
    assert abs(ci.low - (diff - h)) < 1e-9 and abs(ci.high - (diff + h)) < 1e-9
    return {"t": num(res.statistic), "df": num(res.df), "p": num(res.pvalue),
            "difference": float(diff), "ci": [float(ci.low), float(ci.high)]}


def hedges(earlier, later):
    """g = J * (mean_later - mean_earlier) / s_pooled, s_pooled^2 = ((n1-1) s1^2 + (n2-1) s2^2) /
    (n1 + n2 - 2), J = 1 - 3 / (4 (n1 + n2) - 9). Needs n >= 2 in each sample and s_pooled > 0."""
    a, b = np.asarray(later, dtype=float), np.asarray(earlier, dtype=float)
    n1, n2 = len(b), len(a)
    if n1 < 2 or n2 < 2:
        return None
    sp = math.sqrt(((n1 - 1) * b.var(ddof=1) + (n2 - 1) * a.var(ddof=1)) / (n1 + n2 - 2))
    if degenerate(sp, np.concatenate([a, b])):
        return None
    return float((1 - 3 / (4 * (n1 + n2) - 9)) * (a.mean() - b.mean()) / sp)


def two_sample_cases(masking):
    rng = np.random.default_rng(11)
    cases = [
        ("unequal_n_and_variance", sample(rng, 25, 3.1, 0.5), sample(rng, 70, 3.4, 1.2)),
        ("equal_n", sample(rng, 40, 3.5, 0.8), sample(rng, 40, 3.3, 0.7)),
        ("n2_each", [2.0, 3.5], [4.0, 4.25]),
        ("small_unbalanced", sample(rng, 3, 2.0, 1.0), sample(rng, 12, 2.5, 0.3)),
        ("large_n", sample(rng, 500, 3.0, 1.0), sample(rng, 800, 3.08, 1.0)),
        ("one_sample_constant", [3.0, 3.0, 3.0, 3.0], sample(rng, 9, 3.6, 0.9)),
        ("both_constant_degenerate", [3.0, 3.0, 3.0], [4.0, 4.0]),
        ("one_value_each", [3.0], [4.0]),
        ("empty_earlier", [], [1.0, 2.0]),
        ("masking_overall", *masking),
    ]
    welch_cases = [{"name": n, "earlier": e, "later": l, **welch(e, l)} for n, e, l in cases]
    hedges_cases = [{"name": n, "earlier": e, "later": l, "g": hedges(e, l)} for n, e, l in cases]
    return welch_cases, hedges_cases


# ---------------------------------------------------------------- two-way ANOVA
EFFECTS = {"wave": "C(wave)", "group": "C(group)", "interaction": "C(wave):C(group)"}


def anova_statsmodels(rows):
    d = pd.DataFrame(rows, columns=["wave", "group", "score"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = anova_lm(smf.ols("score ~ C(wave) * C(group)", d).fit(), typ=2)
    out = {k: {"ss": num(table.loc[t, "sum_sq"]), "df1": num(table.loc[t, "df"]),
               "df2": num(table.loc["Residual", "df"]), "f": num(table.loc[t, "F"]),
               "p": num(table.loc[t, "PR(>F)"])} for k, t in EFFECTS.items()}
    out["residual"] = {"ss": num(table.loc["Residual", "sum_sq"]), "df": num(table.loc["Residual", "df"])}
    return out


def anova_empty_cell(rows):
    """Model comparisons of separately fitted ols models (each fit's df_resid uses the rank of its
    design): wave = RSS(group) - RSS(wave + group), group = RSS(wave) - RSS(wave + group), tested
    against the full model's residual. The interaction is not reported (null) with an empty cell:
    statsmodels' typ=2 table differs there (see survey.rs). A comparison with df 0 is null."""
    d = pd.DataFrame(rows, columns=["wave", "group", "score"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = {f: smf.ols("score ~ " + f, d).fit() for f in
               ("C(wave) * C(group)", "C(wave) + C(group)", "C(wave)", "C(group)")}
    full, add = fit["C(wave) * C(group)"], fit["C(wave) + C(group)"]
    df2 = full.df_resid

    def compare(reduced):
        df1 = reduced.df_resid - add.df_resid
        if df1 < 0.5:
            return None
        ss = reduced.ssr - add.ssr
        f = ss / df1 / (full.ssr / df2)
        return {"ss": ss, "df1": df1, "df2": df2, "f": f, "p": float(stats.f.sf(f, df1, df2))}

    return {"wave": compare(fit["C(group)"]), "group": compare(fit["C(wave)"]), "interaction": None,
            "residual": {"ss": full.ssr, "df": df2}}


def scores(rng, n, mu, sd=0.7):
    return [round(float(v), 2) for v in np.clip(rng.normal(mu, sd, n), 1, 5)]


def design(seed, waves, groups, sizes, mean):
    """Rows (wave, group, score); sizes(rng, w, g) gives the cell size, mean(w, g) its mean."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in waves:
        for g in groups:
            rows += [(w, g, s) for s in scores(rng, sizes(rng, w, g), mean(w, g))]
    return rows


LOCALITIES = ["Coast", "East", "North", "South"]
# cell sizes of the masking case, the same in both waves, so the opposite changes cancel overall
MASK_N = {"Coast": 45, "East": 60, "North": 55, "South": 40}


def anova_cases():
    eff = {"Coast": 0.0, "East": 0.3, "North": -0.2, "South": 0.1}
    cases = [
        ("2x4_unbalanced", design(21, ["2023", "2025"], LOCALITIES,
                                  lambda r, w, g: int(r.integers(15, 61)),
                                  lambda w, g: 3.2 + eff[g] + (0.15 if w == "2025" else 0.0)
                                  + (0.25 if (w, g) == ("2025", "East") else 0.0))),
        ("2x2_balanced", design(22, ["2023", "2025"], ["Rural", "Urban"], lambda r, w, g: 30,
                                lambda w, g: 3.0 + (0.3 if w == "2025" else 0) + (0.2 if g == "Urban" else 0))),
        ("3x3_unbalanced", design(23, ["2021", "2023", "2025"], ["A", "B", "C"],
                                  lambda r, w, g: int(r.integers(8, 40)),
                                  lambda w, g: 3.0 + 0.1 * int(w[-1]) / 2 + (0.4 if (w, g) == ("2025", "C") else 0))),
        # overall change about zero, but two localities improve and two decline
        ("masking_opposite_directions", design(24, ["2023", "2025"], LOCALITIES,
                                               lambda r, w, g: MASK_N[g],
                                               lambda w, g: 3.0 + (0 if w == "2023" else
                                                                   (0.6 if g in ("Coast", "North") else -0.6)))),
        ("2x30_many_groups", design(25, ["2023", "2025"], [f"L{i:02}" for i in range(30)],
                                    lambda r, w, g: int(r.integers(3, 25)),
                                    lambda w, g: 3.0 + 0.02 * int(g[1:]) + (0.1 if w == "2025" else 0))),
        ("2x3_tiny_cells", design(26, ["a", "b"], ["x", "y", "z"], lambda r, w, g: 2,
                                  lambda w, g: 3.0 + (0.5 if (w, g) == ("b", "y") else 0))),
    ]
    out = []
    for name, rows in cases:
        out.append({"name": name, "data": [list(r) for r in rows], "all_cells": True,
                    **anova_statsmodels(rows)})
    masking = out[3]
    assert masking["interaction"]["p"] < 0.001, masking["interaction"]
    assert welch(*split_waves(masking["data"]))["p"] > 0.2
    # one empty cell: "South" not surveyed in 2025
    rows = [r for r in out[0]["data"] if (r[0], r[1]) != ("2025", "South")]
    out.append({"name": "2x4_one_empty_cell", "data": rows, "all_cells": False,
                "statsmodels": anova_statsmodels(rows), **anova_empty_cell(rows)})
    # disconnected: 2023 surveyed Coast and East only, 2025 North and South only (wave confounded)
    rows = [r for r in out[0]["data"] if (r[0] == "2023") == (r[1] in ("Coast", "East"))]
    out.append({"name": "2x4_disconnected", "data": rows, "all_cells": False,
                "statsmodels": anova_statsmodels(rows), **anova_empty_cell(rows)})
    return out, split_waves(masking["data"])


def split_waves(rows):
    """(earlier, later) scores of a two-wave design, groups pooled."""
    return [s for w, _, s in rows if w == "2023"], [s for w, _, s in rows if w == "2025"]


# ---------------------------------------------------------------- distributions
def distribution_cases():
    t_cdf = [{"df": df, "x": x, "cdf": float(stats.t.cdf(x, df))}
             for df, x in [(1, 0.5), (3.5, 2.1), (10, -3.0), (57.3, 4.5), (200, 6.0), (2, 30.0),
                           (1.2, 0.01), (37.8, 12.0), (5, 0.0), (1000, -2.5)]]
    t_ppf = [{"df": df, "p": p, "x": float(stats.t.ppf(p, df))}
             for df, p in [(1, 0.975), (2, 0.975), (3.5, 0.975), (10, 0.975), (57.3, 0.975),
                           (200, 0.975), (1.2, 0.975), (4, 0.5), (30, 0.025), (7, 0.999)]]
    f_sf = [{"df1": a, "df2": b, "x": x, "sf": float(stats.f.sf(x, a, b))}
            for a, b, x in [(1, 100, 3.0), (3, 200, 25.0), (6, 33, 0.7), (2, 500, 40.0),
                            (4, 10, 1e-3), (29, 600, 1.3), (1, 1, 2.0), (3, 412, 0.0)]]
    return {"t_cdf": t_cdf, "t_ppf": t_ppf, "f_sf": f_sf}


def main():
    os.makedirs(OUT, exist_ok=True)
    anova, masking = anova_cases()
    welch_cases, hedges_cases = two_sample_cases(masking)
    doc = {"generated_by": "scripts/reference/survey.py", "versions": VERSIONS,
           "scale": scale_cases(), "cronbach": cronbach_cases(), "descriptives": descriptives_cases(),
           "welch": welch_cases, "hedges": hedges_cases, "anova": anova,
           "distributions": distribution_cases()}
    dump(os.path.join(OUT, "stats.json"), doc)


def dump(path, doc):
    """JSON with each case of a top-level list on its own line (readable diffs, no huge file)."""
    parts = []
    for key, val in doc.items():
        if isinstance(val, list):
            body = ",\n  ".join(json.dumps(v, ensure_ascii=False) for v in val)
            parts.append(f"{json.dumps(key)}: [\n  {body}\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(val, ensure_ascii=False)}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")


if __name__ == "__main__":
    main()
