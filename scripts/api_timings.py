#!/usr/bin/env python3
"""Time Parley's shared operations as a script over HTTP sees them.

The operations are the ones a side-by-side run with another tool compares
(docs/PERFORMANCE.md, "Side by side through the API"): import one
transcript, create one coding, load one document with its codings, export
the excerpts (CSV, XLSX) and the codebook (CSV, QDC), next to a trivial
request (`/healthz`) that gives the client's own cost. One `requests`
session, one request at a time, medians of repeated runs.

    pip install requests
    parley bench corpus --out /tmp/corpus --docs 100 --words 6100
    PARLEY_PASSWORD=secret parley user add --email bench@example.org --name Bench
    TOKEN=$(parley token create --email bench@example.org)
    python3 scripts/api_timings.py --url http://127.0.0.1:3000 --token "$TOKEN" \
        --corpus /tmp/corpus --codes 12 --codings 4000

Builds a fresh project (the transcripts, the codes, the codings at random
word-aligned ranges, with a fixed seed), then times. Prints a Markdown table.

Run on the server's own machine, the answers come uncompressed (Parley
compresses only for clients elsewhere, or behind a proxy; Taguette never
does), so both tools are timed on the same bytes.
"""
import argparse
import os
import random
import statistics
import time

import requests


def interleaved_ms(f, trivial, n):
    """Median and p95 of `f`, with the median of `trivial` timed between its
    runs: the machine's pace at the same moments (it drifts by a third
    within minutes), so `f ÷ trivial` compares rows, and tools, across runs."""
    times, base = [], []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        trivial()
        base.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (n - 1))], statistics.median(base)


def print_rows(rows):
    """The table both scripts print: each row next to the trivial request
    timed alongside it."""
    print("| operation | median ms | p95 ms | trivial alongside, ms | ÷ trivial |")
    print("|---|---|---|---|---|")
    for name, m, p95, base in rows:
        print(f"| {name} | {m:.1f} | {p95:.1f} | {base:.2f} | {m / base:.1f} |")


def word_range(rng, text):
    """A random range of `text` of 40-400 characters, widened to whole words
    (the same draws from `rng` in every script that compares tools)."""
    n = len(text)
    start = rng.randrange(0, max(1, n - 400))
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = min(n, start + rng.randrange(40, 400))
    while end < n and not text[end].isspace():
        end += 1
    return start, max(end, start + 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:3000")
    ap.add_argument("--token", required=True)
    ap.add_argument("--corpus", required=True, help="a folder of .txt transcripts")
    ap.add_argument("--codes", type=int, default=12)
    ap.add_argument("--codings", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=50, help="samples for the quick operations")
    ap.add_argument("--exports", type=int, default=7, help="samples for the exports")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {a.token}"
    api = a.url.rstrip("/") + "/api/v1"

    def ok(r):
        if r.status_code >= 400:
            raise SystemExit(f"{r.request.method} {r.url}: {r.status_code} {r.text[:300]}")
        return r

    project = ok(s.post(f"{api}/projects", json={"name": f"API timings {time.strftime('%H:%M:%S')}"})).json()["id"]
    p = f"{api}/projects/{project}"
    files = sorted(f for f in os.listdir(a.corpus) if f.endswith(".txt"))
    docs = []
    for f in files:
        with open(os.path.join(a.corpus, f), "rb") as fh:
            body = fh.read()
        r = ok(s.post(f"{p}/documents", files={"file": (f, body, "text/plain")}))
        docs.append(r.json()["documents"][0]["id"] if "documents" in r.json() else r.json()["id"])
    codes = [ok(s.post(f"{p}/codes", json={"name": f"Theme {i + 1}"})).json()["id"] for i in range(a.codes)]
    texts = {d: ok(s.get(f"{p}/documents/{d}")).json()["text"] for d in docs}

    def new_coding():
        d = rng.choice(docs)
        start, end = word_range(rng, texts[d])
        return {"document_id": d, "code_id": rng.choice(codes), "start": start, "end": end}

    for _ in range(a.codings):
        ok(s.post(f"{p}/codings", json=new_coding()))

    # The document with the median number of codings, as "one document".
    counts = {d: 0 for d in docs}
    offset = 0
    while True:
        page = ok(s.get(f"{p}/codings", params={"limit": 1000, "offset": offset})).json()
        for c in page["items"]:
            counts[c["document_id"]] += 1
        offset += 1000
        if offset >= page["total"]:
            break
    doc = sorted(docs, key=lambda d: counts[d])[len(docs) // 2]

    rows = []

    def trivial():
        ok(s.get(f"{a.url}/healthz"))

    def row(name, f, n):
        rows.append((name, *interleaved_ms(f, trivial, n)))

    row("trivial request (`/healthz`)", trivial, a.repeat)
    imports = iter(files * 10)

    def import_one():
        f = next(imports)
        with open(os.path.join(a.corpus, f), "rb") as fh:
            ok(s.post(f"{p}/documents", files={"file": (f, fh.read(), "text/plain")},
                      data={"copies": "true"}))

    row("import one transcript", import_one, a.repeat)
    row("create one coding", lambda: ok(s.post(f"{p}/codings", json=new_coding())), a.repeat)
    row(f"load one document ({counts[doc]} codings): document", lambda: ok(s.get(f"{p}/documents/{doc}")), a.repeat)
    row("… its codings (full objects)", lambda: ok(s.get(f"{p}/codings", params={"document_id": doc})), a.repeat)
    row("… its codings (positions)", lambda: ok(s.get(f"{p}/documents/{doc}/codings")), a.repeat)

    def both():
        ok(s.get(f"{p}/documents/{doc}"))
        ok(s.get(f"{p}/codings", params={"document_id": doc}))

    row("… document + codings", both, a.repeat)
    # What Taguette's two answers hold (text; highlights' positions and
    # tags), in one request.
    row("… document with its codings (positions), one request (`?include=codings`)",
        lambda: ok(s.get(f"{p}/documents/{doc}", params={"include": "codings"})), a.repeat)
    row("export excerpts CSV", lambda: ok(s.get(f"{p}/exports/excerpts.csv")), a.exports)
    row("export excerpts XLSX", lambda: ok(s.get(f"{p}/exports/excerpts.xlsx")), a.exports)
    row("export codebook CSV", lambda: ok(s.get(f"{p}/exports/codebook.csv")), a.repeat)
    row("export codebook QDC", lambda: ok(s.get(f"{p}/exports/codebook.qdc")), a.repeat)
    row("export project QDPX", lambda: ok(s.get(f"{p}/exports/project.qdpx")), a.exports)

    print(f"project {project}: {len(docs)} transcripts, {a.codes} codes, {a.codings} codings\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
