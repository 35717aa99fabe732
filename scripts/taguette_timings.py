#!/usr/bin/env python3
"""Time Taguette 1.5.2's equivalents of Parley's scripts/api_timings.py.

Same scenario, same client (one `requests` session, one request at a time,
medians of repeated runs), against Taguette's own HTTP routes (the ones its
web UI uses). Single-user mode: log in with the token printed at startup.

    python3 -m venv venv && venv/bin/pip install taguette==1.5.2 requests
    apt-get install --no-install-recommends calibre   # Taguette converts .txt with it
    venv/bin/taguette --no-browser --database taguette.sqlite3 \
        -b 127.0.0.1 -p 7465 > server.log 2>&1 & echo $! > server.pid
    venv/bin/python scripts/taguette_timings.py --url http://127.0.0.1:7465 \
        --token "$(grep -o 'token=[0-9a-f]*' server.log | head -1 | cut -d= -f2)" \
        --corpus corpus --pid "$(cat server.pid)"

with `corpus` from `parley bench corpus --out corpus --docs 100 --words 6100`.

Taguette's offsets are UTF-8 byte offsets into the text nodes of the
document's (converted) HTML, so the word-aligned ranges are picked on that
text with the same RNG calls as api_timings.py, then turned into byte offsets.
"""
import argparse
import html.parser
import os
import random
import re
import time

import requests

# The same timing and the same random ranges as Parley's own script.
from api_timings import interleaved_ms, print_rows, word_range


class TextOf(html.parser.HTMLParser):
    """The concatenated text nodes of an HTML fragment (what Taguette counts)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def text_of(fragment):
    p = TextOf()
    p.feed(fragment)
    p.close()
    return "".join(p.parts)


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:7465")
    ap.add_argument("--token", required=True, help="single-user login token printed by taguette")
    ap.add_argument("--corpus", required=True, help="a folder of .txt transcripts")
    ap.add_argument("--pid", type=int, help="Taguette server PID, for VmHWM")
    ap.add_argument("--codes", type=int, default=12)
    ap.add_argument("--codings", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=50, help="samples for the quick operations")
    ap.add_argument("--exports", type=int, default=7, help="samples for the exports")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    base = a.url.rstrip("/")
    s = requests.Session()

    def ok(r):
        if r.status_code >= 400:
            raise SystemExit(f"{r.request.method} {r.url}: {r.status_code} {r.text[:300]}")
        return r

    # Log in (sets the secure 'user' cookie), then get the '_xsrf' cookie.
    ok(s.get(f"{base}/", params={"token": a.token}))
    ok(s.get(f"{base}/project/new"))  # its form sets the _xsrf cookie
    if "_xsrf" not in s.cookies:
        raise SystemExit("no _xsrf cookie after login")
    s.headers["X-XSRFToken"] = s.cookies["_xsrf"]

    r = ok(s.post(f"{base}/project/new", data={"name": f"API timings {time.strftime('%H:%M:%S')}",
                                              "description": ""}, allow_redirects=False))
    project = int(re.search(r"/project/(\d+)$", r.headers["Location"]).group(1))
    api = f"{base}/api/project/{project}"
    # A new Taguette project comes with a default tag "interesting": delete it so
    # the project has exactly the --codes tags, like Parley's.
    page = ok(s.get(f"{base}/project/{project}")).text
    for tid in re.findall(r'"id": (\d+), "path": "interesting"', page):
        ok(s.delete(f"{api}/tag/{tid}"))

    files = sorted(f for f in os.listdir(a.corpus) if f.endswith(".txt"))

    def add_document(f):
        with open(os.path.join(a.corpus, f), "rb") as fh:
            body = fh.read()
        r = ok(s.post(f"{api}/document/new", data={"name": f[:50], "description": ""},
                      files={"file": (f, body, "text/plain")}))
        return r.json()["created"]

    docs = [add_document(f) for f in files]
    codes = [ok(s.post(f"{api}/tag/new", json={"path": f"Theme {i + 1}", "description": ""})).json()["id"]
             for i in range(a.codes)]
    texts = {d: text_of("".join(c["contents"] for c in ok(s.get(f"{api}/document/{d}/contents")).json()["contents"]))
             for d in docs}

    def new_highlight():
        d = rng.choice(docs)
        text = texts[d]
        start, end = word_range(rng, text)
        b0 = len(text[:start].encode("utf-8"))
        b1 = b0 + len(text[start:end].encode("utf-8"))
        return d, {"start_offset": b0, "end_offset": b1, "tags": [rng.choice(codes)]}

    def add_highlight():
        d, body = new_highlight()
        ok(s.post(f"{api}/document/{d}/highlight/new", json=body))

    t0 = time.perf_counter()
    for _ in range(a.codings):
        add_highlight()
    build_s = time.perf_counter() - t0

    # The document with the median number of highlights, as "one document".
    counts = {d: len(ok(s.get(f"{api}/document/{d}")).json()["highlights"]) for d in docs}
    doc = sorted(docs, key=lambda d: counts[d])[len(docs) // 2]

    rows = []

    def trivial():
        ok(s.get(f"{base}/health"))

    def row(name, f, n):
        rows.append((name, *interleaved_ms(f, trivial, n)))

    row("trivial request (`GET /health`)", trivial, a.repeat)
    imports = iter(files * 10)
    row("import one transcript (`POST /api/project/P/document/new`, .txt via Calibre)",
        lambda: add_document(next(imports)), a.repeat)
    row("create one highlight (`POST /api/project/P/document/D/highlight/new`)", add_highlight, a.repeat)
    row(f"load one document ({counts[doc]} highlights): contents (`GET …/document/D/contents`)",
        lambda: ok(s.get(f"{api}/document/{doc}/contents")), a.repeat)
    row("… its highlights (`GET /api/project/P/document/D`)",
        lambda: ok(s.get(f"{api}/document/{doc}")), a.repeat)

    def both():
        ok(s.get(f"{api}/document/{doc}"))
        ok(s.get(f"{api}/document/{doc}/contents"))

    row("… contents + highlights (both, sequentially)", both, a.repeat)
    row("export highlights CSV (`GET /project/P/export/highlights/.csv`)",
        lambda: ok(s.get(f"{base}/project/{project}/export/highlights/.csv")), a.exports)
    row("export highlights XLSX (`GET /project/P/export/highlights/.xlsx`)",
        lambda: ok(s.get(f"{base}/project/{project}/export/highlights/.xlsx")), a.exports)
    row("export codebook CSV (`GET /project/P/export/codebook.csv`)",
        lambda: ok(s.get(f"{base}/project/{project}/export/codebook.csv")), a.repeat)
    row("export codebook QDC (`GET /project/P/export/codebook.qdc`)",
        lambda: ok(s.get(f"{base}/project/{project}/export/codebook.qdc")), a.repeat)
    row("export project (`GET /project/P/export/project.sqlite3`)",
        lambda: ok(s.get(f"{base}/project/{project}/export/project.sqlite3")), a.exports)

    print(f"project {project}: {len(docs)} transcripts, {len(codes)} tags, {a.codings} highlights "
          f"(built in {build_s:.0f} s)\n")
    print_rows(rows)
    if a.pid:
        print(f"\nTaguette server (pid {a.pid}) VmHWM: {vm_hwm_kb(a.pid) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
