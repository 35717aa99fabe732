#!/usr/bin/env python3
"""Reference survey files (CSV, Excel, malformed CSVs) and the figures expected from them.

Run from the repository root:
    python3 -m venv .venv && .venv/bin/pip install numpy scipy statsmodels pandas openpyxl \
        && .venv/bin/python scripts/reference/survey_files.py

Writes deterministically (fixed seed, no clock; the xlsx gets fixed zip and document dates) under
tests/fixtures/survey/:
  staff.csv            synthetic staff questionnaire of a UK mental-health partnership, waves 2002
                       and 2004: id, wave, locality, profession, rc1..rc6 (role clarity, rc3 and
                       rc5 reverse-keyed), js1..js5 (job satisfaction, js2 reverse-keyed); UTF-8,
                       comma separated, "\\n" line ends, blank cell = missing answer;
  staff.xlsx           the same table, first sheet, header in row 1, numbers as numbers;
  staff_expected.json  per scale: Cronbach's alpha (overall and by wave), item-total r,
                       alpha-if-deleted, and the 2002 -> 2004 comparison of scale scores overall
                       and per locality (descriptives, Welch t, Hedges' g) with the
                       wave x locality interaction of a two-way ANOVA (statsmodels, type II);
  bad_*.csv            the first 12 data rows of staff.csv with one defect each, and
  bad_expected.json    the defect of each: row = 1-based line number (header = line 1), column,
                       problem.
The data are built so that for role clarity the overall change is small (Welch p > 0.05) while
North and East improve and South and West decline (interaction p < 0.01); this is asserted.
"""
import csv, io, json, math, os, re, zipfile
from importlib.metadata import version

import numpy as np
import openpyxl
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "survey")
VERSIONS = {p: version(p) for p in ("numpy", "scipy", "statsmodels", "pandas", "openpyxl")}
SEED = 20040
WAVES = ["2002", "2004"]
LOCALITIES = ["East", "North", "South", "West"]                  # sorted by name
COUNTS = {"2002": {"North": 36, "South": 24, "East": 50, "West": 16},
          "2004": {"North": 30, "South": 28, "East": 44, "West": 20}}
BASE = {"North": 3.3, "South": 3.6, "East": 3.2, "West": 3.5}   # latent level in 2002
CHANGE = {"North": 0.45, "South": -0.55, "East": 0.35, "West": -0.55}  # 2002 -> 2004
PROFESSIONS = ["Nurse", "Social worker", "Psychiatrist", "Occupational therapist", "Support worker"]
PROF_WEIGHTS = [0.35, 0.2, 0.1, 0.12, 0.23]
SCALES = [  # name, items, reverse-keyed, min_items, share of the locality effects
    ("Role clarity", [f"rc{i}" for i in range(1, 7)], ["rc3", "rc5"], 4, 1.0),
    ("Job satisfaction", [f"js{i}" for i in range(1, 6)], ["js2"], 3, 0.7),
]
LO, HI = 1, 5
ITEMS = [c for s in SCALES for c in s[1]]
COLUMNS = ["id", "wave", "locality", "profession"] + ITEMS


# ---------------------------------------------------------------- synthetic data
def build_rows(rng):
    """Rows sorted by wave and id. About half of each locality's 2004 respondents also answered in
    2002 and keep their id, locality, profession and personal level (u, one per scale)."""
    first = [loc for loc in LOCALITIES for _ in range(COUNTS["2002"][loc])]
    rng.shuffle(first)
    persons = [{"id": f"R{i + 1:03d}", "locality": loc, "profession": str(rng.choice(PROFESSIONS, p=PROF_WEIGHTS)),
                "u": rng.normal(0, 0.45, size=len(SCALES))} for i, loc in enumerate(first)]
    waves = {"2002": list(persons), "2004": []}
    fresh = []
    for loc in LOCALITIES:
        pool = [p for p in persons if p["locality"] == loc]
        n = COUNTS["2004"][loc]
        k = round(0.5 * min(n, len(pool)))
        waves["2004"] += [pool[i] for i in sorted(rng.choice(len(pool), size=k, replace=False))]
        fresh += [loc] * (n - k)
    rng.shuffle(fresh)
    for i, loc in enumerate(fresh):
        waves["2004"].append({"id": f"R{len(persons) + i + 1:03d}", "locality": loc,
                              "profession": str(rng.choice(PROFESSIONS, p=PROF_WEIGHTS)),
                              "u": rng.normal(0, 0.45, size=len(SCALES))})
    rows = []
    for wave in WAVES:
        for p in sorted(waves[wave], key=lambda p: p["id"]):
            row = {"id": p["id"], "wave": int(wave), "locality": p["locality"], "profession": p["profession"]}
            for s, (_, items, reverse, _, share) in enumerate(SCALES):
                level = BASE[p["locality"]] + p["u"][s] + rng.normal(0, 0.25)
                if wave == "2004":
                    level += share * CHANGE[p["locality"]]
                for item in items:   # answered value; reverse-keyed items are stored reversed
                    v = int(np.clip(np.round(level + rng.normal(0, 0.8)), LO, HI))
                    row[item] = LO + HI - v if item in reverse else v
            rows.append(row)
    # about 3% of item cells blank at random ...
    for row in rows:
        for item in ITEMS:
            if rng.random() < 0.03:
                row[item] = None
    # ... plus, per scale, one respondent with exactly min_items answered (scored) and two with one
    # fewer (no score); rows 20.. so that the bad files (first 12 rows) are not affected
    picks = rng.choice(np.arange(20, len(rows)), size=3 * len(SCALES), replace=False)
    for s, (_, items, _, min_items, _) in enumerate(SCALES):
        for j, r in enumerate(picks[3 * s:3 * s + 3]):
            blank = len(items) - min_items + (j > 0)
            for item in items[:blank]:
                rows[r][item] = None
            for item in items[blank:]:
                if rows[r][item] is None:
                    rows[r][item] = 3
    return rows


# ---------------------------------------------------------------- writers
def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for row in rows:
            w.writerow(["" if row[c] is None else row[c] for c in COLUMNS])


def write_xlsx(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Responses"
    ws.append(COLUMNS)
    for row in rows:
        ws.append([row[c] for c in COLUMNS])   # None leaves the cell empty
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the current time into docProps/core.xml and the zip entries: fix both
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2004-01-01T00:00:00Z", data)
            dst.writestr(zipfile.ZipInfo(info.filename, (2004, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


# ---------------------------------------------------------------- statistics
def alpha_of(m):
    """alpha = k/(k-1) * (1 - sum var(item) / var(sum)), sample variances."""
    k = m.shape[1]
    return float(k / (k - 1) * (1 - m.var(axis=0, ddof=1).sum() / m.sum(axis=1).var(ddof=1)))


def keyed(df, items, reverse):
    return pd.DataFrame({c: LO + HI - df[c] if c in reverse else df[c] for c in items})


def describe(x):
    n, mean, sd = len(x), float(np.mean(x)), float(np.std(x, ddof=1))
    h = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "ci": [mean - h, mean + h]}


def compare_group(value, early, late):
    d1, d2 = describe(early), describe(late)
    (n1, s1), (n2, s2) = (d1["n"], d1["sd"]), (d2["n"], d2["sd"])
    v1, v2 = s1 ** 2 / n1, s2 ** 2 / n2
    df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))   # Welch-Satterthwaite
    res = stats.ttest_ind(late, early, equal_var=False)
    assert abs(res.df - df) < 1e-9 * df
    diff = d2["mean"] - d1["mean"]
    h = stats.t.ppf(0.975, df) * math.sqrt(v1 + v2)
    pooled = math.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / (n1 + n2 - 2))
    g = diff / pooled * (1 - 3 / (4 * (n1 + n2) - 9))
    return {"value": value, "waves": [{"wave": WAVES[0], **d1}, {"wave": WAVES[1], **d2}],
            "difference": diff, "difference_ci": [diff - h, diff + h],
            "welch": {"t": float(res.statistic), "df": float(df), "p": float(res.pvalue)}, "hedges_g": g}


def scale_stats(df, name, items, reverse, min_items):
    k = keyed(df, items, reverse)
    complete = k.dropna()
    m = complete.to_numpy(dtype=float)
    out = {"name": name, "items": items, "reverse": reverse, "min": LO, "max": HI, "score": "mean",
           "min_items": min_items, "alpha": alpha_of(m),
           "alpha_by_wave": {w: alpha_of(complete[df.loc[complete.index, "wave"] == w].to_numpy(dtype=float))
                             for w in WAVES},
           "item_total": [float(np.corrcoef(m[:, j], np.delete(m, j, axis=1).sum(axis=1))[0, 1])
                          for j in range(len(items))],
           "alpha_if_deleted": [alpha_of(np.delete(m, j, axis=1)) for j in range(len(items))]}
    scored = df[["wave", "locality"]].assign(score=k.mean(axis=1), answered=k.notna().sum(axis=1))
    scored = scored[scored["answered"] >= min_items]
    cmp = lambda sub, value: compare_group(value, *(sub.loc[sub["wave"] == w, "score"].to_numpy() for w in WAVES))
    table = anova_lm(smf.ols("score ~ C(wave) * C(locality)", data=scored).fit(), typ=2)
    out["compare"] = {"waves": WAVES, "overall": cmp(scored, None),
                      "groups": [cmp(scored[scored["locality"] == loc], loc) for loc in LOCALITIES],
                      "interaction": {"f": float(table.loc["C(wave):C(locality)", "F"]),
                                      "df1": float(table.loc["C(wave):C(locality)", "df"]),
                                      "df2": float(table.loc["Residual", "df"]),
                                      "p": float(table.loc["C(wave):C(locality)", "PR(>F)"])}}
    return out, len(df) - len(scored)


# ---------------------------------------------------------------- malformed files
def bad_files(rows):
    head = [dict(r) for r in rows[:12]]
    assert len({r["wave"] for r in head}) == 1
    def edit(i, col, value):
        rs = [dict(r) for r in head]
        rs[i][col] = value
        return rs
    cases = [("bad_text_in_item.csv", edit(4, "rc2", "often"), 6, "rc2", "not a number"),
             ("bad_missing_wave.csv", edit(7, "wave", None), 9, "wave", "missing wave"),
             ("bad_duplicate_respondent.csv", edit(9, "id", head[2]["id"]), 11, "id", "duplicate respondent"),
             ("bad_out_of_range.csv", edit(6, "js3", 7), 8, "js3", "out of range"),
             ("bad_empty.csv", [], None, None, "no responses")]
    for name, rs, row, col, _ in cases:
        write_csv(os.path.join(OUT, name), rs)
    return [{"file": f, "row": r, "column": c, "problem": p} for f, _, r, c, p in cases]


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = build_rows(np.random.default_rng(SEED))
    write_csv(os.path.join(OUT, "staff.csv"), rows)
    write_xlsx(os.path.join(OUT, "staff.xlsx"), rows)

    # the expected figures are computed from the file as written, read back with pandas
    df = pd.read_csv(os.path.join(OUT, "staff.csv"), dtype={"wave": str})
    xl = pd.read_excel(os.path.join(OUT, "staff.xlsx"), dtype={"wave": str})
    pd.testing.assert_frame_equal(df, xl)
    assert not df.duplicated(["wave", "id"]).any()
    scales, excluded = [], {}
    for name, items, reverse, min_items, _ in SCALES:
        s, excluded[name] = scale_stats(df, name, items, reverse, min_items)
        scales.append(s)
    rc = scales[0]["compare"]
    assert rc["overall"]["welch"]["p"] > 0.05 and rc["interaction"]["p"] < 0.01, rc
    expected = {"generated_by": "scripts/reference/survey_files.py", "versions": VERSIONS,
                "rows": len(df), "waves": WAVES, "scales": scales}
    with open(os.path.join(OUT, "staff_expected.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(expected, indent=1, allow_nan=False) + "\n")
    with open(os.path.join(OUT, "bad_expected.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(bad_files(rows), indent=1, allow_nan=False) + "\n")

    # summary
    print(pd.crosstab(df["locality"], df["wave"], margins=True))
    print(f"rows {len(df)}, ids in both waves {len(set(df.id[df.wave == '2002']) & set(df.id[df.wave == '2004']))}, "
          f"blank item cells {df[ITEMS].isna().to_numpy().mean():.1%}")
    for s in scales:
        c = s["compare"]
        print(f"{s['name']}: alpha {s['alpha']:.3f} (2002 {s['alpha_by_wave']['2002']:.3f}, "
              f"2004 {s['alpha_by_wave']['2004']:.3f}); no score {excluded[s['name']]}; "
              f"overall diff {c['overall']['difference']:+.3f} Welch p {c['overall']['welch']['p']:.3f}; "
              f"interaction F {c['interaction']['f']:.2f} p {c['interaction']['p']:.2g}")
        for g in c["groups"]:
            print(f"    {g['value']:<6} diff {g['difference']:+.3f}  p {g['welch']['p']:.3g}  g {g['hedges_g']:+.2f}")


if __name__ == "__main__":
    main()
