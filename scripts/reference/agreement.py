#!/usr/bin/env python3
"""Reference fixtures for the inter-coder agreement code (Cohen's kappa, Krippendorff's alpha).

Run from the repository root:
    python3 -m venv .venv && .venv/bin/pip install scikit-learn krippendorff numpy \
        && .venv/bin/python scripts/reference/agreement.py

Writes (deterministically: fixed seeds, no clock) two files under tests/fixtures/agreement/:
  vectors.json  ~30 cases of 2-5 binary coder vectors with sklearn's cohen_kappa_score per pair
                and krippendorff's nominal alpha over all coders;
  corpus.json   a small transcript study (4 documents, 3 coders, 3 codes, code-point offsets) with
                the expected figures for character, word and turn units, computed here on unit
                vectors built by this script.
Undefined results (nan, a sklearn warning, krippendorff raising on one-value data) are JSON null.
The package versions used are written into both files.
"""
import json, math, os, warnings
from importlib.metadata import version

import krippendorff
import numpy as np
from sklearn.metrics import cohen_kappa_score

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "agreement")
HEAD = {"generated_by": "scripts/reference/agreement.py",
        "versions": {p: version(p) for p in ("scikit-learn", "krippendorff", "numpy")}}


def kappa(a, b):
    """Cohen's kappa, or None when undefined (nan, or sklearn warned, e.g. a single label)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        k = float(cohen_kappa_score(list(a), list(b)))
    return None if caught or math.isnan(k) else k


def alpha(rows):
    """Krippendorff's nominal alpha over coders x units, or None (it raises on one-value data)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = float(krippendorff.alpha(reliability_data=np.array(rows), level_of_measurement="nominal"))
    except ValueError:
        return None
    return None if math.isnan(a) else a


def dump(path, obj):
    """JSON with each element of a top-level list on its own line (readable diffs, no huge files)."""
    parts = []
    for key, val in obj.items():
        if isinstance(val, list):
            body = ",\n  ".join(json.dumps(v, ensure_ascii=False) for v in val)
            parts.append(f"{json.dumps(key)}: [\n  {body}\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(val, ensure_ascii=False, indent=2)}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(parts) + "\n}\n")


# ---------------------------------------------------------------- vectors.json
def bern(rng, n, p):
    return (rng.random(n) < p).astype(int)

def flip(rng, v, rate):
    """Copy of v with each value flipped with probability `rate`."""
    return np.where(rng.random(len(v)) < rate, 1 - v, v)

def runs(rng, n, gap, length):
    """Base passages: alternating gaps and runs of geometric lengths (means `gap`, `length`)."""
    out, i = [], int(rng.geometric(1 / gap))
    while i < n:
        e = min(n, i + int(rng.geometric(1 / length)))
        out.append((i, e))
        i = e + int(rng.geometric(1 / gap))
    return out

def coder_runs(rng, n, base, keep=0.9, jitter=3):
    """One coder's reading of the base passages: some dropped, boundaries moved a little."""
    v = np.zeros(n, dtype=int)
    for s, e in base:
        if rng.random() < keep:
            s2, e2 = max(0, s + rng.integers(-jitter, jitter + 1)), min(n, e + rng.integers(-jitter, jitter + 1))
            v[s2:max(e2, s2 + 1)] = 1
    return v

def shared(rng, n, base, k, keep, jitter):
    """k coders reading the same base passages."""
    return [coder_runs(rng, n, base, keep, jitter) for _ in range(k)]

def nested(base, n):
    """Coder 0 codes each passage whole; coder 1 only its middle half (nested inside)."""
    a, b = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    for s, e in base:
        a[s:e] = 1
        b[s + (e - s) // 4:max(e - (e - s) // 4, s + 1)] = 1
    return [a, b]

def make_cases():
    cases = []
    def add(name, seed, fn):
        rng = np.random.default_rng(seed)
        cases.append((name, [np.asarray(c, dtype=int) for c in fn(rng)]))
    z = np.zeros
    add("len1_both_one", 1, lambda r: [[1], [1]])
    add("len1_disagree", 2, lambda r: [[0], [1]])
    add("len2_opposite", 3, lambda r: [[1, 0], [0, 1]])
    add("len3_one_difference", 4, lambda r: [[1, 0, 0], [1, 1, 0]])
    add("len7_small", 5, lambda r: [[0, 1, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1, 1]])
    add("identical_n20", 6, lambda r: [v := bern(r, 20, 0.4), v])
    add("identical_n500_p0.3", 7, lambda r: [v := bern(r, 500, 0.3), v])
    add("all_zeros_n50", 8, lambda r: [z(50), z(50)])
    add("all_ones_n10", 9, lambda r: [np.ones(10), np.ones(10)])
    add("one_coder_all_zero_n100", 10, lambda r: [bern(r, 100, 0.2), z(100)])
    add("one_coder_all_one_n100", 11, lambda r: [np.ones(100), bern(r, 100, 0.7)])
    add("systematic_disagreement_n100", 12, lambda r: [v := bern(r, 100, 0.5), 1 - v])
    add("systematic_disagreement_p0.9_n300", 13, lambda r: [v := bern(r, 300, 0.9), 1 - v])
    add("chance_n1000_p0.5", 14, lambda r: [bern(r, 1000, 0.5), bern(r, 1000, 0.5)])
    add("chance_n5000_p0.1", 15, lambda r: [bern(r, 5000, 0.1), bern(r, 5000, 0.1)])
    add("chance_n2000_p0.01", 16, lambda r: [bern(r, 2000, 0.01), bern(r, 2000, 0.01)])
    add("high_agreement_n1000_p0.3", 17, lambda r: [v := bern(r, 1000, 0.3), flip(r, v, 0.05)])
    add("high_agreement_n5000_p0.01", 18, lambda r: [v := bern(r, 5000, 0.01), flip(r, v, 0.002)])
    add("high_agreement_n200_p0.9", 19, lambda r: [v := bern(r, 200, 0.9), flip(r, v, 0.05)])
    add("moderate_n300_p0.5", 20, lambda r: [v := bern(r, 300, 0.5), flip(r, v, 0.25)])
    add("rare_n100_p0.01", 21, lambda r: [bern(r, 100, 0.01), bern(r, 100, 0.03)])
    add("near_constant_single_one_n5000", 22, lambda r: [z(5000), np.eye(1, 5000, 4321)[0]])
    add("runs_n2000", 23, lambda r: [coder_runs(r, 2000, b := runs(r, 2000, 80, 40), 0.9), coder_runs(r, 2000, b, 0.9)])
    add("runs_n5000_long", 24, lambda r: [coder_runs(r, 5000, b := runs(r, 5000, 300, 200), 1.0, 15), coder_runs(r, 5000, b, 0.8, 15)])
    add("runs_nested_subset_n3000", 25, lambda r: nested(runs(r, 3000, 100, 120), 3000))
    add("runs_3coders_n2500", 26, lambda r: shared(r, 2500, runs(r, 2500, 60, 30), 3, 0.9, 3))
    add("three_coders_high_n500", 27, lambda r: [v := bern(r, 500, 0.4), flip(r, v, 0.03), flip(r, v, 0.06)])
    add("three_coders_one_diverges_n400", 28, lambda r: [v := bern(r, 400, 0.3), flip(r, v, 0.05), bern(r, 400, 0.3)])
    add("four_coders_chance_n400", 29, lambda r: [bern(r, 400, 0.5) for _ in range(4)])
    add("four_coders_runs_n1500", 30, lambda r: shared(r, 1500, runs(r, 1500, 50, 25), 4, 0.85, 2))
    add("five_coders_high_n1000", 31, lambda r: [v := bern(r, 1000, 0.2)] + [flip(r, v, 0.04) for _ in range(4)])
    add("five_coders_one_all_zero_n200", 32, lambda r: [v := bern(r, 200, 0.25)] + [flip(r, v, 0.1) for _ in range(3)] + [z(200)])
    add("five_coders_len1", 33, lambda r: [[1], [1], [0], [1], [1]])
    return cases

def vectors():
    out = []
    for name, coders in make_cases():
        assert 2 <= len(coders) <= 5 and len({len(c) for c in coders}) == 1, name
        pairs = [{"a": i, "b": j, "kappa": kappa(coders[i], coders[j])}
                 for i in range(len(coders)) for j in range(i + 1, len(coders))]
        out.append({"name": name, "coders": [[int(x) for x in c] for c in coders],
                    "alpha": alpha(coders), "pairs": pairs})
    return out


# ---------------------------------------------------------------- corpus.json
CODERS, CODES = ["A", "B", "C"], ["Trust", "Access", "Waiting"]
DOCUMENTS = [
    ("Interview — carer C03", """\
Interviewer: Thanks for agreeing to talk to me today. Could you start by telling me a bit about your caring role?
C03: I’ve looked after my son for about six years now, since his first episode of psychosis when he was nineteen.
Interviewer: And how did you first get in touch with mental health services?
C03: Through the GP, eventually. We went three times before anyone referred him — three times.
Interviewer: What happened after the referral?
C03: We waited fourteen weeks for the first appointment with the early intervention team. Fourteen weeks, with him barely sleeping.
C03: I rang the duty line most weeks. Sometimes someone called back, sometimes nobody did.
Interviewer: How did that waiting affect you?
C03: Honestly, I stopped believing anyone was going to help. I started keeping a diary of every call, just in case.
Interviewer: Has that changed since?
C03: His care coordinator, Renée, has been brilliant. She tells me what’s happening and she does what she says she’ll do.
C03: That’s rebuilt a lot of trust, but it took the best part of a year.
Interviewer: Is there anything that still makes it hard to get support?
C03: The carers’ assessment. I asked in March and I’m still on the list 🙂 — you have to laugh.
C03: And the clinic moved to the other side of town, two buses each way, which he can’t manage on his own.
Interviewer: Thank you, that’s really helpful.
C03: No problem. I hope it makes a difference for the next family."""),
    ("Interview — service user P01", """\
Interviewer: Can you tell me about the first time you asked for help?
P01: I filled in the self-referral form online at 2am. Nobody phoned for five weeks.
Interviewer: What was that like?
P01: Awful, to be honest. You build yourself up to ask and then it’s silence.
P01: When they did ring I missed the call because I was at work, and it went back to the bottom of the pile.
Interviewer: How did you feel about the staff once you were seen?
P01: My therapist was kind. I felt she actually listened, which hadn’t happened before.
P01: But I never saw the same psychiatrist twice, so I had to tell my story again every time — it’s exhausting.
Interviewer: Did you trust them with things like your medication?
P01: With the therapist, yes. With the medication I wasn’t sure anyone had read my notes.
Interviewer: Was getting to appointments ever a problem?
P01: The café next to the clinic does a cheap breakfast, so I’d go early 😅 but the appointments kept moving to times when I couldn’t leave work.
Interviewer: Anything else you’d like to add?
P01: Just that a text saying “you’re on the list, we haven’t forgotten you” would have meant a lot."""),
    ("Interview — staff S02", """\
Interviewer: What’s your role in the team?
S02: I’m a community psychiatric nurse in the adult community mental health team, mostly working with people on the waiting list for psychology.
Interviewer: How long is that list at the moment?
S02: For psychology it’s around nine months. For an initial assessment it’s about six weeks, sometimes longer.
Interviewer: What do you do for people while they wait?
S02: We phone people every four weeks to check in. It’s not treatment, but it keeps the door open.
S02: If people don’t pick up twice we’re supposed to discharge them, which I think damages trust — they assume we’ve given up on them.
Interviewer: Do you think people trust the service?
S02: Some do. Others have been let down before — by us, by the GP, by the police — and that takes a long time to repair.
Interviewer: Are there groups who find it harder to access the team?
S02: People without a phone or credit, people who work shifts, and people whose first language isn’t English. The interpreter has to be booked a fortnight ahead.
S02: We’ve started a drop-in on Thursday evenings at the library, which has helped a bit.
Interviewer: Thank you."""),
    ("Focus group — carers and service users", """\
Interviewer: Welcome, everyone. I’d like to start with how easy or hard it was to get help.
P04: For me it was the crisis team that got me in. Before that I’d been bounced between the GP and the wellbeing service.
C05: Same with my partner. The GP said it wasn’t serious enough, then A&E said it was too serious for them.
P06: I self-referred and got a call within a week, so I was lucky. It depends on your postcode.
Interviewer: What about waiting once you were referred?
C07: Seven months for family therapy. By the time it started our daughter had been admitted.
P04: I waited ages too, but the peer support worker kept in touch, which made the wait bearable.
C05: Nobody tells carers how long it’ll be. You just sit by the phone.
Interviewer: And trust — do you feel you can rely on the service?
P06: I trust the people. I don’t trust the system — it loses referrals.
C07: I trust them more now. The ward staff were honest with us, even when the news wasn’t good.
P04: Mixed. The crisis team were great 👍 but the letters never arrive on time.
C05: Honestly? No. Every time I raise a concern I get a leaflet.
Interviewer: If you could change one thing, what would it be?
P06: A named person you can ring, who knows who you are.
C07: Evening appointments. Half the carers in our group work full time.
P04: Being told where you are on the list — even a rough guess.
C05: Being treated as part of the care team, not a visitor.
Interviewer: Thank you all — that’s all we have time for."""),
]

# One line per coded span: CODERS CODE DOC START_ANCHOR [| END_ANCHOR].  Several coders ("AB",
# "ABC") = exact agreement.  The span runs from the start of START_ANCHOR (which must occur once
# in the document) to the end of the first END_ANCHOR after it (default: START_ANCHOR itself);
# "*" = the whole document.  Anchors cut mid-word on purpose where marked (mid).
CODINGS = """\
AB Waiting 0 We waited fourteen weeks | barely sleeping.
C Waiting 0 waited fourteen weeks for the first appointment
A Waiting 0 Fourteen weeks, with him
A Waiting 0 I rang the duty line | nobody did.
B Waiting 0 rang the duty line most weeks
A Waiting 0 I asked in March | on the list
B Waiting 0 carers’ assessment | you have to laugh.
A Trust 0 I stopped believing anyone was going to help.
B Trust 0 I stopped believing | just in case.
C Trust 0 stopped believing anyone
A Trust 0 His care coordinator, Renée | best part of a year.
B Trust 0 Renée, has been brilliant | rebuilt a lot of trust
C Trust 0 She tells me what’s happening and she does what she says she’ll do.
A Access 0 And how did you first get in touch | — three times.
B Access 0 Through the GP | referred him
A Access 0 And the clinic moved | on his own.
B Access 0 linic moved to the other side of town, two bu
C Access 0 two buses each way
A Access 0 The carers’ assessment.
ABC Waiting 1 Nobody phoned for five weeks.
A Waiting 1 When they did ring | bottom of the pile.
B Waiting 1 it went back to the bottom of the pile.
A Waiting 1 Just that a text saying | meant a lot.
B Waiting 1 “you’re on the list, we haven’t forgotten you”
AB Trust 1 My therapist was kind. | hadn’t happened before.
C Trust 1 she actually listened
A Trust 1 But I never saw the same psychiatrist twice | exhausting.
B Trust 1 ver saw the same psychiatr
B Trust 1 Did you trust them | read my notes.
A Trust 1 With the therapist, yes. | read my notes.
C Trust 1 wasn’t sure anyone had read my notes
A Access 1 I filled in the self-referral form online at 2am.
C Access 1 self-referral form online
A Access 1 the appointments kept moving | couldn’t leave work.
C Access 1 The café next to the clinic | couldn’t leave work.
A Access 1 I missed the call because I was at work
A Access 2 *
B Access 2 Are there groups who find it harder | helped a bit.
B Access 2 The interpreter has to be booked a fortnight ahead.
C Access 2 People without a phone or credit | a fortnight ahead.
A Waiting 2 on the waiting list for psychology.
B Waiting 2 working with people on the waiting list for psychology.
AB Waiting 2 For psychology it’s around nine months. | sometimes longer.
C Waiting 2 around nine months
A Waiting 2 We phone people every four weeks | keeps the door open.
B Waiting 2 We phone people every four weeks to check in.
A Waiting 2 ooked a fortnight ahea
A Trust 2 which I think damages trust | given up on them.
B Trust 2 If people don’t pick up twice | given up on them.
A Trust 2 Some do. | long time to repair.
A Trust 2 let down before
B Trust 2 Do you think people trust the service? | long time to repair.
AB Access 3 For me it was the crisis team | wellbeing service.
C Access 3 bounced between the GP and the wellbeing service
A Access 3 Same with my partner. | too serious for them.
B Access 3 The GP said it wasn’t serious enough | postcode.
A Access 3 I self-referred | postcode.
C Access 3 It depends on your postcode.
A Access 3 Evening appointments. | work full time.
B Access 3 A named person you can ring | work full time.
AC Waiting 3 Seven months for family therapy. | had been admitted.
B Waiting 3 Seven months for family therapy.
A Waiting 3 I waited ages too | sit by the phone.
B Waiting 3 I waited ages too, but | made the wait bearable.
B Waiting 3 Nobody tells carers how long it’ll be.
C Waiting 3 Nobody tells carers
A Waiting 3 Being told where you are on the list | rough guess.
B Waiting 3 told where you are on the li
AB Trust 3 I trust the people. | loses referrals.
C Trust 3 I don’t trust the system
A Trust 3 I trust them more now. | wasn’t good.
B Trust 3 The ward staff were honest with us
A Trust 3 Mixed. | arrive on time.
B Trust 3 Mixed. The crisis team were great 👍
AB Trust 3 Honestly? No. | get a leaflet.
C Trust 3 And trust — do you feel | get a leaflet.
A Trust 3 Being treated as part of the care team, not a visitor."""


def parse_codings(texts):
    out = []
    for row in CODINGS.splitlines():
        who, code, doc, anchors = row.split(" ", 3)
        text = texts[int(doc)]
        if anchors == "*":
            start, end = 0, len(text)
        else:
            first, _, last = (a.strip() for a in anchors.partition(" | "))
            assert text.count(first) == 1, f"start anchor not unique: {row}"
            start = text.index(first)
            end = text.index(last or first, start) + len(last or first)
        for c in who:
            out.append({"coder": CODERS.index(c), "code": CODES.index(code), "document": int(doc),
                        "start": start, "end": end})
    return out


def units(kind, text):
    """Half-open code-point spans of the units of one document, in order."""
    if kind == "character":
        return [(i, i + 1) for i in range(len(text))]
    spans, pos = [], 0
    if kind == "word":  # maximal non-whitespace runs holding at least one alphanumeric character
        i = 0
        while i < len(text):
            if text[i].isspace():
                i += 1
                continue
            j = i
            while j < len(text) and not text[j].isspace():
                j += 1
            if any(ch.isalnum() for ch in text[i:j]):
                spans.append((i, j))
            i = j
        return spans
    for line in text.split("\n"):  # turn: every line not spoken by the interviewer
        if line.split(":", 1)[0] != "Interviewer":
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def unit_vectors(kind, texts, codings):
    """vec[code][coder] = 0/1 over all units of all documents (documents in order)."""
    vec = [[[] for _ in CODERS] for _ in CODES]
    for d, text in enumerate(texts):
        spans = units(kind, text)
        for k in range(len(CODES)):
            for c in range(len(CODERS)):
                mine = [(g["start"], g["end"]) for g in codings
                        if (g["document"], g["code"], g["coder"]) == (d, k, c)]
                vec[k][c] += [int(any(s < ue and us < e for s, e in mine)) for us, ue in spans]
    return [[np.array(v) for v in per_code] for per_code in vec]


def figures(a, b, c):
    n = len(a)
    both, only_a, only_b = int(np.sum(a & b)), int(np.sum(a & (1 - b))), int(np.sum((1 - a) & b))
    neither = n - both - only_a - only_b
    return {"units": n,
            "ab": {"both": both, "only_a": only_a, "only_b": only_b, "neither": neither,
                   "percent": 100 * (both + neither) / n, "kappa": kappa(a, b), "alpha": alpha([a, b])},
            "abc": {"percent": 100 * float(np.mean((a == b) & (b == c))), "alpha": alpha([a, b, c]),
                    "pairs": [{"a": i, "b": j, "kappa": kappa(x, y)}
                              for (i, x), (j, y) in [((0, a), (1, b)), ((0, a), (2, c)), ((1, b), (2, c))]]}}


def corpus():
    texts = [t for _, t in DOCUMENTS]
    for t in texts:  # the transcript format the app expects
        lines = t.split("\n")
        assert 8 <= len(lines) <= 25 and not t.endswith("\n")
        for line in lines:
            label, sep, rest = line.partition(": ")
            assert sep and rest and line == line.strip(), line
            assert label == "Interviewer" or (label.rstrip("0123456789").isalpha() and label[-1].isdigit()), line
    whole = "".join(texts)
    assert len(whole) < len(whole.encode("utf-16-le")) // 2 < len(whole.encode("utf-8"))  # astral + non-ASCII
    codings = parse_codings(texts)
    keys = [tuple(g.values()) for g in codings]
    assert len(keys) == len(set(keys)), "duplicate coding"
    assert all(0 <= g["start"] < g["end"] <= len(texts[g["document"]]) for g in codings)
    per_coder = [sum(g["coder"] == c for g in codings) for c in range(3)]
    assert per_coder[2] < min(per_coder[:2]) and 60 <= len(codings) <= 90, per_coder
    expected = {}
    for kind in ("character", "word", "turn"):
        vec = unit_vectors(kind, texts, codings)
        pooled = [np.concatenate([vec[k][c] for k in range(len(CODES))]) for c in range(3)]
        expected[kind] = {"codes": [figures(*vec[k]) for k in range(len(CODES))], "pooled": figures(*pooled)}
    return {**HEAD, "coders": CODERS, "codes": CODES,
            "documents": [{"title": t, "text": x} for t, x in DOCUMENTS],
            "codings": codings, "expected": expected}


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = vectors()
    assert any(p["kappa"] is not None for c in cases for p in c["pairs"])
    dump(os.path.join(OUT, "vectors.json"), {**HEAD, "cases": cases})
    study = corpus()
    assert any(p["kappa"] is not None for e in study["expected"].values()
               for f in e["codes"] + [e["pooled"]] for p in f["abc"]["pairs"])
    dump(os.path.join(OUT, "corpus.json"), study)
    # A short summary to eyeball.
    fmt = lambda x: "null" if x is None else f"{x:.4f}"
    for c in cases:
        print(f"{c['name']:36} n={len(c['coders'][0]):5} coders={len(c['coders'])} alpha={fmt(c['alpha']):>7}"
              f" kappa={' '.join(fmt(p['kappa']) for p in c['pairs'][:3])}")
    print(f"corpus: {len(study['documents'])} documents, {len(study['codings'])} codings, per coder "
          f"{[sum(g['coder'] == i for g in study['codings']) for i in range(3)]}")
    for kind, e in study["expected"].items():
        for name, f in zip(CODES + ["pooled"], e["codes"] + [e["pooled"]]):
            print(f"  {kind:9} {name:7} units={f['units']:5} AB%={f['ab']['percent']:.2f} "
                  f"k={fmt(f['ab']['kappa'])} a={fmt(f['ab']['alpha'])} ABC%={f['abc']['percent']:.2f} "
                  f"a3={fmt(f['abc']['alpha'])}")


if __name__ == "__main__":
    main()
