//! The theme matrix, recounted independently.
//!
//! A varied project is built through the API only (groups, participants with
//! and without a locality, one-to-one interviews, focus groups, an unmapped
//! speaker, a heading before the first turn, a document without speaker
//! labels, a three-level code tree, two coders and a couple of hundred
//! codings). Everything is then read back through the API and the matrix is
//! recomputed here from docs/COUNTING.md alone (`expected_matrix`), for every
//! measure × column choice × roll-up, with and without filters, and compared
//! with `GET /projects/{id}/matrix`.

use crate::helpers::{Api, TestApp, assert_error, expect, id, items};
use parley::domain::ids::ProjectId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};

const UNASSIGNED: &str = "Unassigned";
const NO_GROUP: &str = "(no group)";
const NO_VALUE: &str = "(no value)";
/// The attribute the matrix is broken down by.
const LOCALITY: &str = "locality";

// ---- the dataset -------------------------------------------------------------

/// (label, group, locality)
const PEOPLE: &[(&str, Option<&str>, Option<&str>)] = &[
    ("S01", Some("Staff"), Some("North")),
    ("S02", Some("Staff"), Some("Ward 10")),
    ("S03", Some("Staff"), None),
    // Never speaks anywhere: in no N, and "Harbour" is no column.
    ("X01", Some("Staff"), Some("Harbour")),
    ("U01", Some("Service user"), Some("North")),
    ("U02", Some("Service user"), Some("South")),
    ("U03", Some("Service user"), Some("Ward 9")),
    ("U04", Some("Service user"), None),
    ("C01", Some("Carer"), Some("South")),
    ("C02", Some("Carer"), Some("North")),
    ("N01", None, Some("South")),
];

/// A one-to-one interview with time marks; "Jane" is named S01 on import.
const INTERVIEW_S01: &str = "\
[00:00:05] Interviewer: Thank you for coming in. How did the ward feel to you?

[00:00:12] Jane: Honestly? Like a sanctuary 🙂 most days. The café downstairs was a lifeline — naïve, maybe, but real.
We'd sit there for hours.

[00:01:40] Interviewer: And at night?
[00:01:48] Jane: Night was different. No privacy at all, doors banging, staff rushing… I felt unsafe 😟.
Sometimes I couldn't sleep until 4 a.m.
";

/// A one-to-one interview whose speaker maps by label; a continuation line
/// opens with spaces.
const INTERVIEW_U02: &str = "\
I: Wie geht's? Tell me about the crisis house.
U02: It felt like asylum in the old sense — a refuge. Señora Díaz, the nurse, always knocked first.

I: Did you feel safe?
U02: Mostly. 😀 But the shared bathroom… zero privacy. Ça m'a stressé.
  I told the carers, they listened.
";

/// A focus group: every group speaks, and one participant has no group.
const FOCUS_GROUP_1: &str = "\
Facilitator: Welcome, everyone. Let's start with safety on the ward.
U01: For me it was a sanctuary. Quiet, calm, tea at 3 ☕.
C01: As a carer I never felt listened to — we're the ones who notice first!
S02: From the staff side, 12-hour shifts make it hard to give that time.

Facilitator: What about privacy?
U01: Privacy? None. Curtains don't stop sound 🙉.
N01: I come as a peer volunteer; privacy is the number one complaint I hear.
C02: My son said the night staff were kind, but the ward was frightening after dark.
S02: We've raised the night staffing ratio many times.
C01: Carers should be told about discharge before it happens.
";

/// A focus group with an unmapped speaker ("Visitor"), one participant
/// speaking under two labels ("S03" and "Sam") and an emoji-only turn.
const FOCUS_GROUP_2: &str = "\
Moderator: Thanks for joining. First, what does safety mean here?
S03: Safety is procedures, but also trust. Résumé of the policy, lock-up at 22:00.
Visitor: I'm just sitting in — sorry — but the locks scared me 😬.
U03: Locks make it feel like a prison, not a hospital.
Sam: (S03 again) To be fair, the locks are for everyone's protection.
S01: I work days and nights; nights are harder for everyone.
U04: 🙂
U04: I prefer the crisis house. Fewer rules, more respect.
Moderator: Anything else?
Visitor: No, merci.
";

/// A heading before the first turn and a separator between turns; "R7" and
/// "Carer 2 (Ruth)" are mapped by hand.
const JOINT_INTERVIEW: &str = "\
# Session 3 — Café Nord ☕ (Ward 9)

Interviewer: Could you both describe the discharge?
R7: It was rushed. Two days' notice, no plan. 😡
Carer 2 (Ruth): Nobody rang me. I found out from R7's text message.
---
Interviewer: Second part — looking back?
R7: The staff were good people in a hard system.
Carer 2 (Ruth): I'd give it 3/10.
";

/// No speaker labels at all: everything is outside any turn.
const FIELD_NOTES: &str = "\
Field notes, ward round, Tuesday.

The day room was loud; the TV was on all morning. Residents sat near the nurses' station — “where it's safe”, one said.
Señor B. asked twice about leave. 🕰️ Staff were patient.

Overall impression — calm but crowded. 🙂
";

/// (name, parent name): three levels deep.
const CODES: &[(&str, Option<&str>)] = &[
    ("Inpatient frames", None),
    ("Sanctuary", Some("Inpatient frames")),
    ("Café culture ☕", Some("Sanctuary")),
    ("Asylum", Some("Inpatient frames")),
    ("Safety", None),
    ("Fears over safety", Some("Safety")),
    ("Night-time", Some("Fears over safety")),
    ("Lack of privacy", Some("Safety")),
    ("Carer focus", None),
];

// ---- a small deterministic PRNG ----------------------------------------------

/// xorshift64*: the same dataset on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
}

// ---- HTTP helpers ------------------------------------------------------------

/// GET with a query string built (and encoded) by reqwest.
async fn get_with(api: &Api, path: &str, query: &[(&str, String)]) -> reqwest::Response {
    let mut req = api.client.get(format!("{}{path}", api.base)).query(query);
    if let Some(token) = &api.token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

fn user_id(api: &Api) -> i64 {
    api.user.as_ref().unwrap().id.0
}

// ---- building the project ------------------------------------------------------

struct Built {
    owner: Api,
    coders: [Api; 2],
    project: ProjectId,
    /// Document ids in the order of `documents()`.
    docs: Vec<i64>,
}

/// The documents: (title, text, participant named on import).
fn documents() -> [(&'static str, &'static str, Option<&'static str>); 6] {
    [
        ("Interview — Jane", INTERVIEW_S01, Some("S01")),
        ("Interview U02", INTERVIEW_U02, None),
        ("Focus group 1", FOCUS_GROUP_1, None),
        ("Focus group 2", FOCUS_GROUP_2, None),
        ("Joint interview", JOINT_INTERVIEW, None),
        ("Field notes", FIELD_NOTES, None),
    ]
}

const JANE: usize = 0;
const U02_DOC: usize = 1;
const FG1: usize = 2;
const FG2: usize = 3;
const JOINT: usize = 4;
const NOTES: usize = 5;

async fn build(app: &TestApp) -> Built {
    let owner = app.person("owner@example.org").await;
    let coders = [
        app.person("ana@example.org").await,
        app.person("ben@example.org").await,
    ];
    let p = owner.project("Integrated services").await;
    for c in &coders {
        owner.add(p, c, "coder").await;
    }

    // Groups: the three defaults, Carer moved first, and an empty fourth.
    let groups = expect(
        owner.get(&format!("/projects/{p}/groups")).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<&str> = items(&groups)
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Staff", "Service user", "Carer"], "default groups");
    let carer = id(items(&groups)
        .iter()
        .find(|g| g["name"] == "Carer")
        .unwrap());
    expect(
        owner
            .patch(
                &format!("/projects/{p}/groups/{carer}"),
                json!({"position": 1}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        owner
            .post(
                &format!("/projects/{p}/groups"),
                json!({"name": "Peer worker"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    for (label, group, locality) in PEOPLE {
        let mut attributes = serde_json::Map::new();
        if let Some(l) = locality {
            attributes.insert(LOCALITY.into(), json!(l));
        }
        if label.starts_with('S') {
            attributes.insert("wave".into(), json!("2004"));
        }
        expect(
            owner
                .post(
                    &format!("/projects/{p}/participants"),
                    json!({"label": label, "group": group, "attributes": attributes}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    }

    let mut docs = Vec::new();
    for (title, text, participant) in documents() {
        let mut body = json!({"title": title, "text": text});
        if let Some(who) = participant {
            body["participant"] = json!(who);
        }
        let created = expect(
            owner.post(&format!("/projects/{p}/documents"), body).await,
            StatusCode::CREATED,
        )
        .await;
        docs.push(id(&created));
    }
    let map = |doc: usize, mapping: Value| {
        let owner = &owner;
        let path = format!("/projects/{p}/documents/{}/speakers", docs[doc]);
        async move { expect(owner.put(&path, mapping).await, StatusCode::OK).await }
    };
    map(FG2, json!([{"label": "Sam", "participant": "S03"}])).await;
    map(
        JOINT,
        json!([
            {"label": "R7", "participant": "U02"},
            {"label": "Carer 2 (Ruth)", "participant": "C02"}
        ]),
    )
    .await;

    // Codes, parents first.
    let mut code_ids: BTreeMap<&str, i64> = BTreeMap::new();
    for (name, parent) in CODES {
        let parent_id = parent.map(|n| code_ids[n]);
        let created = expect(
            owner
                .post(
                    &format!("/projects/{p}/codes"),
                    json!({"name": name, "parent_id": parent_id}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        code_ids.insert(name, id(&created));
    }

    let built = Built {
        owner,
        coders,
        project: p,
        docs,
    };
    let world = read_world(&built.owner, p).await;
    code_everything(&built, &world, &code_ids).await;
    built
}

/// A coding to make: (document, [start, end), code name, coder 0/1).
type Plan = (usize, (usize, usize), &'static str, usize);

/// `[start, end)` in code points of the only occurrence of `needle`.
fn span(text: &[char], needle: &str) -> (usize, usize) {
    let hay: String = text.iter().collect();
    let byte = hay
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {hay:?}"));
    assert_eq!(
        hay.rfind(needle),
        Some(byte),
        "{needle:?} occurs more than once"
    );
    let start = hay[..byte].chars().count();
    (start, start + needle.chars().count())
}

/// From the start of `from` to the end of `to`.
fn between(text: &[char], from: &str, to: &str) -> (usize, usize) {
    (span(text, from).0, span(text, to).1)
}

/// The gap from the end of `before` to the start of `after`.
fn gap(text: &[char], before: &str, after: &str) -> (usize, usize) {
    (span(text, before).1, span(text, after).0)
}

/// Random ranges keep clear of the inside of a turn's opening time mark and
/// label (a range may still cover one whole): how a coding that cuts a
/// label counts is the subject of its own test below.
fn clear_of_labels(doc: &Doc, mut start: usize, mut end: usize) -> (usize, usize) {
    for t in &doc.turns {
        if t.start < start && start < t.words_from {
            start = t.start;
        }
        if t.start < end && end < t.words_from {
            end = t.words_from;
        }
    }
    (start, end)
}

/// The codings chosen by hand (one per rule) and the seeded random ones.
async fn code_everything(b: &Built, w: &World, code_ids: &BTreeMap<&str, i64>) {
    let t = |doc: usize| w.docs[&b.docs[doc]].text.as_slice();
    let mut plan: Vec<Plan> = vec![
        // Inside one turn.
        (JANE, span(t(JANE), "sanctuary 🙂"), "Sanctuary", 0),
        (JANE, span(t(JANE), "café downstairs"), "Café culture ☕", 1),
        (FG1, span(t(FG1), "Quiet, calm"), "Sanctuary", 0),
        (
            U02_DOC,
            span(t(U02_DOC), "Ça m'a stressé"),
            "Fears over safety",
            1,
        ),
        // A whole turn opening with a time mark and a label.
        (
            JANE,
            between(t(JANE), "[00:01:48] Jane:", "until 4 a.m."),
            "Night-time",
            0,
        ),
        // Several turns and speakers of different groups.
        (
            FG1,
            between(t(FG1), "For me it was", "give that time."),
            "Safety",
            0,
        ),
        (
            FG1,
            between(t(FG1), "privacy is the number", "frightening after"),
            "Lack of privacy",
            1,
        ),
        // The same passage by both coders, and the same code again (answered, not added).
        (
            FG1,
            span(t(FG1), "we're the ones who notice first!"),
            "Carer focus",
            0,
        ),
        (
            FG1,
            span(t(FG1), "we're the ones who notice first!"),
            "Carer focus",
            1,
        ),
        (
            FG1,
            span(t(FG1), "we're the ones who notice first!"),
            "Carer focus",
            1,
        ),
        // A parent and its child on the same passage.
        (FG1, span(t(FG1), "night staffing ratio"), "Safety", 0),
        (FG1, span(t(FG1), "night staffing ratio"), "Night-time", 0),
        // Only interviewer turns, only blank text between turns, or both.
        (
            JANE,
            span(t(JANE), "How did the ward feel to you?"),
            "Safety",
            0,
        ),
        (
            FG1,
            span(t(FG1), "Facilitator: What about privacy?"),
            "Lack of privacy",
            1,
        ),
        (
            JANE,
            gap(t(JANE), "feel to you?", "[00:00:12]"),
            "Safety",
            1,
        ),
        (
            FG1,
            gap(t(FG1), "give that time.", "Facilitator: What"),
            "Safety",
            0,
        ),
        (
            FG2,
            gap(t(FG2), "scared me 😬.", "U03:"),
            "Fears over safety",
            1,
        ),
        (
            JANE,
            (span(t(JANE), "Thank you").0, span(t(JANE), "[00:00:12]").0),
            "Sanctuary",
            0,
        ),
        (
            JANE,
            gap(t(JANE), "And at night?", "[00:01:48]"),
            "Night-time",
            1,
        ),
        // An unmapped speaker alone, and together with a participant.
        (
            FG2,
            span(t(FG2), "the locks scared me 😬"),
            "Fears over safety",
            0,
        ),
        (FG2, span(t(FG2), "No, merci."), "Asylum", 1),
        (
            FG2,
            between(t(FG2), "sitting in", "not a hospital"),
            "Asylum",
            0,
        ),
        // One participant under two labels.
        (
            FG2,
            between(t(FG2), "S03: Safety", "everyone's protection"),
            "Safety",
            1,
        ),
        // Two participants of one group.
        (
            FG2,
            between(t(FG2), "To be fair", "nights are harder"),
            "Night-time",
            0,
        ),
        // An emoji-only turn, and the spaces that open a continuation line.
        (FG2, span(t(FG2), "U04: 🙂"), "Sanctuary", 0),
        (
            U02_DOC,
            gap(t(U02_DOC), "stressé.", "I told"),
            "Fears over safety",
            0,
        ),
        // The heading before the first turn, alone and with what follows.
        (
            JOINT,
            span(t(JOINT), "Session 3 — Café Nord"),
            "Café culture ☕",
            0,
        ),
        (
            JOINT,
            between(t(JOINT), "# Session", "describe the discharge?"),
            "Inpatient frames",
            1,
        ),
        (
            JOINT,
            between(t(JOINT), "(Ward 9)", "no plan."),
            "Carer focus",
            1,
        ),
        // The separator between turns, alone and with the turns around it.
        (JOINT, span(t(JOINT), "---"), "Carer focus", 0),
        (
            JOINT,
            between(t(JOINT), "text message.", "Second part"),
            "Carer focus",
            1,
        ),
        // A document without speaker labels: a phrase, a blank line, all of it.
        (NOTES, span(t(NOTES), "calm but crowded"), "Sanctuary", 0),
        (
            NOTES,
            gap(t(NOTES), "Tuesday.", "The day room"),
            "Asylum",
            1,
        ),
        (NOTES, (0, t(NOTES).len()), "Inpatient frames", 0),
        // Speaker labels are no words: the label alone, and with a word after it.
        (FG1, span(t(FG1), "C02:"), "Carer focus", 0),
        (FG1, span(t(FG1), "C02: My"), "Carer focus", 1),
        (FG1, span(t(FG1), "S02: We"), "Night-time", 1),
        // Nested and overlapping.
        (
            U02_DOC,
            between(t(U02_DOC), "It felt like asylum", "knocked first."),
            "Asylum",
            0,
        ),
        (U02_DOC, span(t(U02_DOC), "a refuge"), "Sanctuary", 0),
        (U02_DOC, span(t(U02_DOC), "a refuge"), "Asylum", 1),
        (
            U02_DOC,
            between(t(U02_DOC), "always knocked", "Did you feel"),
            "Lack of privacy",
            1,
        ),
        // Whole documents.
        (FG1, (0, t(FG1).len()), "Inpatient frames", 1),
        (FG2, (0, t(FG2).len()), "Safety", 0),
    ];

    // Random ranges: mostly short, some long; now and then the same range
    // again with another code or by the other coder.
    let mut rng = Rng(0x5EED_CAFE_F00D_2024);
    for _ in 0..160 {
        if rng.below(100) < 15 {
            let (doc, range, _, coder) = plan[rng.below(plan.len())];
            let code = CODES[rng.below(CODES.len())].0;
            plan.push((doc, range, code, (coder + rng.below(2)) % 2));
            continue;
        }
        let doc = rng.below(b.docs.len());
        let n = t(doc).len();
        let start = rng.below(n);
        let len = match rng.below(10) {
            0..=4 => rng.between(1, 30),
            5..=7 => rng.between(30, 150),
            _ => rng.between(150, n.max(150)),
        };
        let end = (start + len).min(n);
        let (start, end) = clear_of_labels(&w.docs[&b.docs[doc]], start, end);
        plan.push((
            doc,
            (start, end),
            CODES[rng.below(CODES.len())].0,
            rng.below(2),
        ));
    }

    let p = b.project;
    for (doc, (start, end), code, coder) in plan {
        let res = b.coders[coder]
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": b.docs[doc], "code_id": code_ids[code], "start": start, "end": end}),
            )
            .await;
        let status = res.status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "coding {code:?} [{start}, {end}) in document {doc}: {status} {}",
            res.text().await.unwrap()
        );
    }
}

// ---- the project as read back through the API ------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Participant(i64),
    Interviewer,
    Unassigned,
}

struct Turn {
    who: Who,
    start: usize,
    end: usize,
    /// Where the opening time mark and "<label>:" end (`start` if none).
    words_from: usize,
}

struct Doc {
    id: i64,
    text: Vec<char>,
    turns: Vec<Turn>,
    /// Participants mapped to one of this document's speakers.
    mapped: BTreeSet<i64>,
}

struct Person {
    label: String,
    group: Option<String>,
    locality: Option<String>,
}

struct Code {
    id: i64,
    parent_id: Option<i64>,
    path: String,
    depth: i64,
}

struct Coding {
    doc: i64,
    code: i64,
    coder: i64,
    start: usize,
    end: usize,
}

struct World {
    /// Group names in the project's order.
    groups: Vec<String>,
    people: BTreeMap<i64, Person>,
    docs: BTreeMap<i64, Doc>,
    /// The tree, parents first.
    codes: Vec<Code>,
    codings: Vec<Coding>,
}

async fn read_world(api: &Api, p: ProjectId) -> World {
    let get = |path: String| async move { expect(api.get(&path).await, StatusCode::OK).await };

    let groups = get(format!("/projects/{p}/groups")).await;
    let mut groups: Vec<(i64, i64, String)> = items(&groups)
        .iter()
        .map(|g| {
            (
                g["position"].as_i64().unwrap(),
                id(g),
                g["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    groups.sort();

    let people = get(format!("/projects/{p}/participants?limit=1000")).await;
    let people = items(&people)
        .iter()
        .map(|x| {
            (
                id(x),
                Person {
                    label: x["label"].as_str().unwrap().to_owned(),
                    group: x["group"].as_str().map(str::to_owned),
                    locality: x["attributes"][LOCALITY].as_str().map(str::to_owned),
                },
            )
        })
        .collect();

    let list = get(format!("/projects/{p}/documents?limit=1000")).await;
    let mut docs = BTreeMap::new();
    for summary in items(&list) {
        let d = get(format!("/projects/{p}/documents/{}", id(summary))).await;
        let text: Vec<char> = d["text"].as_str().unwrap().chars().collect();
        let mut roles = BTreeMap::new();
        let mut mapped = BTreeSet::new();
        for s in d["speakers"].as_array().unwrap() {
            let who = match s["role"].as_str().unwrap() {
                "participant" => {
                    let pid = s["participant_id"].as_i64().unwrap();
                    mapped.insert(pid);
                    Who::Participant(pid)
                }
                "interviewer" => Who::Interviewer,
                "unassigned" => Who::Unassigned,
                other => panic!("unknown role {other}"),
            };
            roles.insert(s["label"].as_str().unwrap().to_owned(), who);
        }
        let turns = d["turns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let (start, end) = (
                    t["start"].as_u64().unwrap() as usize,
                    t["end"].as_u64().unwrap() as usize,
                );
                let speaker = t["speaker"].as_str();
                Turn {
                    who: speaker.map_or(Who::Unassigned, |s| roles[s]),
                    start,
                    end,
                    words_from: speaker.map_or(start, |s| label_end(&text, start, end, s)),
                }
            })
            .collect();
        docs.insert(
            id(&d),
            Doc {
                id: id(&d),
                text,
                turns,
                mapped,
            },
        );
    }

    let codes = get(format!("/projects/{p}/codes")).await;
    let codes = items(&codes)
        .iter()
        .map(|c| Code {
            id: id(c),
            parent_id: c["parent_id"].as_i64(),
            path: c["path"].as_str().unwrap().to_owned(),
            depth: c["depth"].as_i64().unwrap(),
        })
        .collect();

    let mut codings = Vec::new();
    loop {
        let page = get(format!(
            "/projects/{p}/codings?limit=1000&offset={}",
            codings.len()
        ))
        .await;
        let total = page["total"].as_u64().unwrap() as usize;
        codings.extend(items(&page).iter().map(|c| Coding {
            doc: c["document_id"].as_i64().unwrap(),
            code: c["code_id"].as_i64().unwrap(),
            coder: c["coder"].as_i64().unwrap(),
            start: c["start"].as_u64().unwrap() as usize,
            end: c["end"].as_u64().unwrap() as usize,
        }));
        if codings.len() >= total || items(&page).is_empty() {
            assert_eq!(codings.len(), total, "paged through every coding");
            break;
        }
    }

    World {
        groups: groups.into_iter().map(|(_, _, name)| name).collect(),
        people,
        docs,
        codes,
        codings,
    }
}

// ---- the rules of docs/COUNTING.md ---------------------------------------------

/// Runs of white space split words; a word has at least one letter or digit.
fn count_words(text: &[char]) -> usize {
    text.split(|c| c.is_whitespace())
        .filter(|w| w.iter().any(|c| c.is_alphanumeric()))
        .count()
}

/// Where the time mark and "<label>:" that open a turn end: they are not
/// words (COUNTING.md, "words"). The turn's start when the label is not
/// within the turn's first 40 bytes.
fn label_end(text: &[char], turn_start: usize, turn_end: usize, label: &str) -> usize {
    let said: String = text[turn_start..turn_end].iter().collect();
    let head = format!("{label}:");
    match said.find(&head) {
        Some(byte) if byte < 40 => turn_start + said[..byte + head.len()].chars().count(),
        _ => turn_start,
    }
}

/// Who one coding is attributed to, with the words it covers for each.
#[derive(Debug, Default)]
struct Attribution {
    /// Participant → words of the coding inside that participant's turns.
    people: BTreeMap<i64, usize>,
    /// `Some(words)` when attributed to Unassigned: words inside unmapped
    /// speakers' turns and outside any turn.
    unassigned: Option<usize>,
}

fn attribute(doc: &Doc, start: usize, end: usize) -> Attribution {
    let mut people: BTreeMap<i64, usize> = BTreeMap::new();
    let mut unmapped = false;
    let mut unmapped_words = 0;
    let mut in_turn = vec![false; end - start];
    for t in &doc.turns {
        let (s, e) = (start.max(t.start), end.min(t.end));
        if s >= e {
            continue;
        }
        in_turn[s - start..e - start].fill(true);
        // Only what follows the opening time mark and label can be words.
        let words = count_words(&doc.text[s.max(t.words_from).min(e)..e]);
        match t.who {
            Who::Interviewer => {}
            Who::Participant(p) => *people.entry(p).or_default() += words,
            Who::Unassigned => {
                unmapped = true;
                unmapped_words += words;
            }
        }
    }
    // Text outside any turn: a heading or an unlabelled document counts
    // for Unassigned; blank text (between turns) for no one.
    let mut i = start;
    while i < end {
        if in_turn[i - start] {
            i += 1;
            continue;
        }
        let run_start = i;
        while i < end && !in_turn[i - start] {
            i += 1;
        }
        let run = &doc.text[run_start..i];
        unmapped |= run.iter().any(|c| !c.is_whitespace());
        unmapped_words += count_words(run);
    }
    Attribution {
        unassigned: (people.is_empty() && unmapped).then_some(unmapped_words),
        people,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    Group,
    Attr,
    GroupAttr,
}

impl Columns {
    const ALL: [Columns; 3] = [Columns::Group, Columns::Attr, Columns::GroupAttr];

    fn param(self) -> String {
        match self {
            Columns::Group => "group".into(),
            Columns::Attr => format!("attr:{LOCALITY}"),
            Columns::GroupAttr => format!("group,attr:{LOCALITY}"),
        }
    }

    fn key(self, p: &Person) -> String {
        let group = p.group.as_deref().unwrap_or(NO_GROUP);
        let value = p.locality.as_deref().unwrap_or(NO_VALUE);
        match self {
            Columns::Group => group.to_owned(),
            Columns::Attr => value.to_owned(),
            Columns::GroupAttr => format!("{group}|{value}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    References,
    Cases,
    CasesPct,
    Documents,
    Words,
}

impl Measure {
    const ALL: [Measure; 5] = [
        Measure::References,
        Measure::Cases,
        Measure::CasesPct,
        Measure::Documents,
        Measure::Words,
    ];

    fn param(self) -> &'static str {
        match self {
            Measure::References => "references",
            Measure::Cases => "cases",
            Measure::CasesPct => "cases_pct",
            Measure::Documents => "documents",
            Measure::Words => "words",
        }
    }
}

/// The matrix filters.
#[derive(Debug, Clone, Default)]
struct Scope {
    coder: Option<i64>,
    documents: Option<Vec<i64>>,
    /// Only participants with this locality.
    locality: Option<String>,
}

impl Scope {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(c) = self.coder {
            q.push(("coder", c.to_string()));
        }
        if let Some(ds) = &self.documents {
            let ids: Vec<String> = ds.iter().map(i64::to_string).collect();
            q.push(("documents", ids.join(",")));
        }
        if let Some(v) = &self.locality {
            q.push(("attribute", format!("{LOCALITY}={v}")));
        }
        q
    }
}

/// One cell's tallies.
#[derive(Default)]
struct Tally {
    references: usize,
    cases: BTreeSet<i64>,
    documents: BTreeSet<i64>,
    words: usize,
}

impl Tally {
    /// `n`: the column's N; `None` for Unassigned (which is no one).
    fn value(&self, measure: Measure, n: Option<usize>) -> Option<f64> {
        let cases = if n.is_some() { self.cases.len() } else { 0 };
        match measure {
            Measure::References => Some(self.references as f64),
            Measure::Cases => Some(cases as f64),
            Measure::CasesPct => match n {
                Some(n) if n > 0 => Some(cases as f64 / n as f64 * 100.0),
                _ => None,
            },
            Measure::Documents => Some(self.documents.len() as f64),
            Measure::Words => Some(self.words as f64),
        }
    }
}

/// One row of the matrix: column key → value, and the total.
type Row = (BTreeMap<String, Option<f64>>, Option<f64>);

struct Expected {
    /// (key, N) in order; Unassigned has no N.
    columns: Vec<(String, Option<usize>)>,
    participants: usize,
    /// By code id.
    rows: BTreeMap<i64, Row>,
}

/// "Ward 9" before "Ward 10": digit runs compare as numbers.
fn natural(s: &str) -> Vec<(u8, u64, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let cut = rest
            .find(|x: char| x.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(cut);
        out.push(match digit {
            true => (0, chunk.parse().unwrap_or(u64::MAX), String::new()),
            false => (1, 0, chunk.to_owned()),
        });
        rest = tail;
    }
    out
}

/// The matrix as docs/COUNTING.md defines it, from the data alone.
fn expected_matrix(
    w: &World,
    by: Columns,
    measure: Measure,
    rollup: bool,
    scope: &Scope,
) -> Expected {
    let doc_counted = |d: i64| scope.documents.as_ref().is_none_or(|ds| ds.contains(&d));
    let person_counted =
        |p: i64| scope.locality.is_none() || w.people[&p].locality == scope.locality;
    let key = |p: i64| by.key(&w.people[&p]);

    // N: participants mapped to a speaker in a document counted.
    let counted: BTreeSet<i64> = w
        .docs
        .values()
        .filter(|d| doc_counted(d.id))
        .flat_map(|d| d.mapped.iter().copied())
        .filter(|&p| person_counted(p))
        .collect();

    // The codings in scope, each with whom it is attributed to.
    let attributed: Vec<(&Coding, Attribution)> = w
        .codings
        .iter()
        .filter(|c| scope.coder.is_none_or(|u| c.coder == u) && doc_counted(c.doc))
        .map(|c| {
            let mut a = attribute(&w.docs[&c.doc], c.start, c.end);
            a.people.retain(|&p, _| person_counted(p));
            if scope.locality.is_some() {
                a.unassigned = None;
            }
            (c, a)
        })
        .filter(|(_, a)| !a.people.is_empty() || a.unassigned.is_some())
        .collect();

    let mut keys: Vec<String> = match by {
        Columns::Group => {
            let mut v = w.groups.clone();
            if counted.iter().any(|p| w.people[p].group.is_none()) {
                v.push(NO_GROUP.into());
            }
            v
        }
        Columns::Attr | Columns::GroupAttr => {
            let mut v: Vec<String> = counted
                .iter()
                .map(|&p| key(p))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            v.sort_by_key(|k| natural(k));
            v
        }
    };
    let unassigned = attributed.iter().any(|(_, a)| a.unassigned.is_some());
    if unassigned {
        keys.push(UNASSIGNED.into());
    }
    let columns: Vec<(String, Option<usize>)> = keys
        .into_iter()
        .map(|k| {
            let n = (k != UNASSIGNED).then(|| counted.iter().filter(|&&p| key(p) == k).count());
            (k, n)
        })
        .collect();

    let in_branch = |code: i64, row: i64| {
        let mut c = Some(code);
        while let Some(id) = c {
            if id == row {
                return true;
            }
            if !rollup {
                return false;
            }
            c = w
                .codes
                .iter()
                .find(|x| x.id == id)
                .and_then(|x| x.parent_id);
        }
        false
    };

    let mut rows = BTreeMap::new();
    for row in &w.codes {
        let mut cells: BTreeMap<String, Tally> = BTreeMap::new();
        let mut total = Tally::default();
        for (c, a) in attributed.iter().filter(|(c, _)| in_branch(c.code, row.id)) {
            // A coding counts once in each column it reaches.
            let mut reached: BTreeMap<String, (BTreeSet<i64>, usize)> = BTreeMap::new();
            for (&p, &words) in &a.people {
                let e = reached.entry(key(p)).or_default();
                e.0.insert(p);
                e.1 += words;
            }
            if let Some(words) = a.unassigned {
                reached.entry(UNASSIGNED.into()).or_default().1 += words;
            }
            for (col, (people, words)) in reached {
                let cell = cells.entry(col).or_default();
                cell.references += 1;
                cell.cases.extend(people);
                cell.documents.insert(c.doc);
                cell.words += words;
            }
            total.references += 1;
            total.cases.extend(a.people.keys());
            total.documents.insert(c.doc);
            total.words += a.people.values().sum::<usize>() + a.unassigned.unwrap_or(0);
        }
        let empty = Tally::default();
        let values = columns
            .iter()
            .map(|(k, n)| (k.clone(), cells.get(k).unwrap_or(&empty).value(measure, *n)))
            .collect();
        rows.insert(row.id, (values, total.value(measure, Some(counted.len()))));
    }
    Expected {
        columns,
        participants: counted.len(),
        rows,
    }
}

// ---- comparing ------------------------------------------------------------------

fn same(want: Option<f64>, got: &Value, measure: Measure) -> bool {
    match (want, got.as_f64()) {
        (None, _) => got.is_null(),
        (Some(_), None) => false,
        (Some(w), Some(g)) if measure == Measure::CasesPct => (w - g).abs() < 1e-9,
        (Some(w), Some(g)) => w == g,
    }
}

/// Compare one answer of the API with the recount; differences go to `out`.
fn compare(
    got: &Value,
    want: &Expected,
    w: &World,
    (by, measure): (Columns, Measure),
    ctx: &str,
    out: &mut Vec<String>,
) {
    let got_keys: Vec<&str> = got["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    let want_keys: Vec<&str> = want.columns.iter().map(|(k, _)| k.as_str()).collect();
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    if set(&got_keys) != set(&want_keys) || got_keys.len() != want_keys.len() {
        out.push(format!(
            "{ctx}: columns: expected {want_keys:?}, got {got_keys:?}"
        ));
        return;
    }
    // Order: documented for groups (project order) and attribute values
    // (sorted, numbers as numbers); Unassigned last. Specials and pairs are
    // compared as a set.
    if by != Columns::GroupAttr {
        let plain = |v: &[&str]| -> Vec<String> {
            v.iter()
                .filter(|k| ![NO_GROUP, NO_VALUE, UNASSIGNED].contains(k))
                .map(|s| s.to_string())
                .collect()
        };
        if plain(&got_keys) != plain(&want_keys) {
            out.push(format!(
                "{ctx}: column order: expected {want_keys:?}, got {got_keys:?}"
            ));
        }
    }
    if got_keys.contains(&UNASSIGNED) && got_keys.last() != Some(&UNASSIGNED) {
        out.push(format!("{ctx}: Unassigned is not last: {got_keys:?}"));
    }
    for c in got["columns"].as_array().unwrap() {
        let k = c["key"].as_str().unwrap();
        let n = want.columns.iter().find(|(x, _)| x == k).unwrap().1;
        let ok = match n {
            Some(n) => c["participants"].as_u64() == Some(n as u64),
            // Unassigned is no one: no N (or 0).
            None => c["participants"].is_null() || c["participants"] == 0,
        };
        if !ok {
            out.push(format!(
                "{ctx}: N of column {k:?}: expected {n:?}, got {}",
                c["participants"]
            ));
        }
        if c["label"].as_str().is_none_or(str::is_empty) {
            out.push(format!("{ctx}: column {k:?} has no label: {c}"));
        }
    }
    if got["participants"].as_u64() != Some(want.participants as u64) {
        out.push(format!(
            "{ctx}: total N: expected {}, got {}",
            want.participants, got["participants"]
        ));
    }

    let rows = got["rows"].as_array().unwrap();
    let got_ids: Vec<i64> = rows
        .iter()
        .map(|r| r["code_id"].as_i64().unwrap())
        .collect();
    let want_ids: Vec<i64> = w.codes.iter().map(|c| c.id).collect();
    if got_ids != want_ids {
        out.push(format!(
            "{ctx}: rows: expected codes {want_ids:?} (tree order), got {got_ids:?}"
        ));
        return;
    }
    for (r, code) in rows.iter().zip(&w.codes) {
        let path = &code.path;
        if r["path"] != code.path.as_str()
            || r["depth"].as_i64() != Some(code.depth)
            || r["parent_id"].as_i64() != code.parent_id
        {
            out.push(format!(
                "{ctx}: row {path:?}: path, depth or parent differ: {r}"
            ));
        }
        let (values, total) = &want.rows[&code.id];
        let got_values = r["values"].as_object().unwrap();
        if got_values.len() != values.len() {
            out.push(format!(
                "{ctx}: row {path:?}: value keys {:?}",
                got_values.keys().collect::<Vec<_>>()
            ));
        }
        for (k, v) in values {
            let g = got_values.get(k).unwrap_or(&Value::Null);
            if !same(*v, g, measure) {
                out.push(format!(
                    "{ctx}: code {path:?}, column {k:?}: expected {v:?}, got {g}"
                ));
            }
        }
        if !same(*total, &r["total"], measure) {
            out.push(format!(
                "{ctx}: code {path:?}, total: expected {total:?}, got {}",
                r["total"]
            ));
        }
    }
}

/// Every measure × columns × roll-up under `scope`, against the recount.
async fn check_all(api: &Api, p: ProjectId, w: &World, scope: &Scope, out: &mut Vec<String>) {
    for by in Columns::ALL {
        for rollup in [false, true] {
            for measure in Measure::ALL {
                let mut query = vec![
                    ("columns", by.param()),
                    ("measure", measure.param().to_owned()),
                    ("rollup", rollup.to_string()),
                ];
                query.extend(scope.query());
                let ctx = format!(
                    "[measure={} columns={} rollup={rollup} filters={:?}]",
                    measure.param(),
                    by.param(),
                    scope.query()
                );
                let got = expect(
                    get_with(api, &format!("/projects/{p}/matrix"), &query).await,
                    StatusCode::OK,
                )
                .await;
                assert_eq!(got["measure"], measure.param(), "{ctx}");
                assert_eq!(got["columns_by"], by.param(), "{ctx}");
                assert_eq!(got["rollup"], rollup, "{ctx}");
                let want = expected_matrix(w, by, measure, rollup, scope);
                compare(&got, &want, w, (by, measure), &ctx, out);
            }
        }
    }
}

fn fail_on(out: &[String]) {
    if !out.is_empty() {
        let shown: Vec<&str> = out.iter().take(60).map(String::as_str).collect();
        panic!(
            "{} difference(s) between the matrix and the recount by docs/COUNTING.md:\n{}",
            out.len(),
            shown.join("\n")
        );
    }
}

/// The dataset really exercises each rule (so a pass means something).
fn assert_coverage(w: &World, b: &Built) {
    let doc = |i: usize| &w.docs[&b.docs[i]];
    assert!(doc(NOTES).turns.is_empty(), "field notes have no turns");
    assert!(
        doc(JOINT).turns[0].start > 0,
        "a heading before the first turn"
    );
    assert!(
        doc(FG2).turns.iter().any(|t| t.who == Who::Unassigned),
        "an unmapped speaker"
    );
    assert!(
        w.people.values().any(|p| p.group.is_none()),
        "someone without a group"
    );
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &w.codings {
        let d = &w.docs[&c.doc];
        let a = attribute(d, c.start, c.end);
        let groups: BTreeSet<Option<&String>> = a
            .people
            .keys()
            .map(|p| w.people[p].group.as_ref())
            .collect();
        let kind = match (a.people.len(), a.unassigned.is_some()) {
            (0, false) => "no one",
            (0, true) => "Unassigned",
            (1, _) => "one participant",
            _ if groups.len() > 1 => "several groups",
            _ => "several participants, one group",
        };
        *kinds.entry(kind).or_default() += 1;
        if d.turns.is_empty() {
            *kinds.entry("unlabelled document").or_default() += 1;
        }
    }
    for kind in [
        "no one",
        "Unassigned",
        "one participant",
        "several groups",
        "several participants, one group",
        "unlabelled document",
    ] {
        assert!(
            kinds.contains_key(kind),
            "no coding of kind {kind}: {kinds:?}"
        );
    }
    assert!(w.codings.len() >= 150, "{} codings", w.codings.len());
    let coders: BTreeSet<i64> = w.codings.iter().map(|c| c.coder).collect();
    assert_eq!(coders.len(), 2);
    assert_eq!(w.codes.iter().map(|c| c.depth).max(), Some(2));
}

// ---- the tests ------------------------------------------------------------------

#[sqlx::test]
async fn the_matrix_counts_exactly_as_documented(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = build(&app).await;
    let p = b.project;
    let w = read_world(&b.owner, p).await;
    assert_coverage(&w, &b);
    assert_eq!(
        w.groups,
        ["Carer", "Staff", "Service user", "Peer worker"],
        "project order of the groups"
    );

    let ana = user_id(&b.coders[0]);
    let ben = user_id(&b.coders[1]);
    let d = |i: usize| b.docs[i];
    let scopes = [
        Scope::default(),
        Scope {
            coder: Some(ana),
            ..Scope::default()
        },
        Scope {
            coder: Some(ben),
            ..Scope::default()
        },
        Scope {
            documents: Some(vec![d(FG1), d(JOINT)]),
            ..Scope::default()
        },
        Scope {
            documents: Some(vec![d(NOTES)]),
            ..Scope::default()
        },
        Scope {
            locality: Some("North".into()),
            ..Scope::default()
        },
        // Someone has this value, but no one who speaks.
        Scope {
            locality: Some("Harbour".into()),
            ..Scope::default()
        },
        Scope {
            coder: Some(ben),
            documents: Some(vec![d(JANE), d(FG1), d(FG2)]),
            locality: Some("Ward 10".into()),
        },
    ];
    let mut out = Vec::new();
    for scope in &scopes {
        check_all(&b.owner, p, &w, scope, &mut out).await;
    }
    fail_on(&out);

    // The defaults are groups, references, no roll-up.
    let plain = expect(
        b.owner.get(&format!("/projects/{p}/matrix")).await,
        StatusCode::OK,
    )
    .await;
    let explicit = expect(
        b.owner
            .get(&format!(
                "/projects/{p}/matrix?columns=group&measure=references&rollup=false"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(plain, explicit);

    // Attribution follows the current speaker mapping.
    expect(
        b.owner
            .put(
                &format!("/projects/{p}/documents/{}/speakers", d(FG2)),
                json!([{"label": "Visitor", "participant": "U01"}]),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        b.owner
            .put(
                &format!("/projects/{p}/documents/{}/speakers", d(FG1)),
                json!([{"label": "N01", "role": "interviewer"}]),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let remapped = read_world(&b.owner, p).await;
    assert!(
        remapped
            .docs
            .values()
            .all(|d| d.mapped.iter().all(|p| remapped.people[p].label != "N01")),
        "N01 speaks nowhere now"
    );
    let mut out = Vec::new();
    check_all(&b.owner, p, &remapped, &Scope::default(), &mut out).await;
    fail_on(&out);
}

#[sqlx::test]
async fn the_matrix_refuses_bad_requests_and_strangers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let viewer = app.person("viewer@example.org").await;
    let outsider = app.person("outsider@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &viewer, "viewer").await;
    let doc = id(&expect(
        owner
            .post(
                &format!("/projects/{p}/documents"),
                json!({"title": "T", "text": "I: Go on.\nP1: It was a sanctuary 🙂\n"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    let other = owner.project("Other").await;
    let foreign = id(&expect(
        owner
            .post(
                &format!("/projects/{other}/documents"),
                json!({"title": "F", "text": "I: x\nP9: y\n"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    let code = id(&expect(
        owner
            .post(
                &format!("/projects/{p}/codes"),
                json!({"name": "Sanctuary"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    expect(
        owner
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": doc, "code_id": code, "start": 14, "end": 30}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let url = format!("/projects/{p}/matrix");

    for query in [
        vec![("measure", "bogus".to_owned())],
        vec![("columns", "colour".to_owned())],
        vec![("columns", "attr:".to_owned())],
        vec![("columns", "group,attr:".to_owned())],
        vec![("documents", foreign.to_string())],
        vec![("documents", format!("{doc},{foreign}"))],
    ] {
        let res = get_with(&owner, &url, &query).await;
        let status = res.status();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query:?}");
        assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    // A viewer reads the same matrix; an outsider learns nothing.
    let query = [("measure", "cases_pct".to_owned())];
    let as_owner = expect(get_with(&owner, &url, &query).await, StatusCode::OK).await;
    let as_viewer = expect(get_with(&viewer, &url, &query).await, StatusCode::OK).await;
    assert_eq!(as_owner, as_viewer);
    assert_eq!(as_owner["rows"][0]["code_id"], code);
    assert_error(
        get_with(&outsider, &url, &query).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(app.anonymous().get(&url).await, StatusCode::UNAUTHORIZED).await;
}

/// COUNTING.md: "The speaker label and time mark that open a turn
/// ("[00:03:12] P07:") are not words" -- also when a coding starts inside
/// them or stops inside them.
#[sqlx::test]
async fn a_speaker_label_is_no_words_wherever_a_coding_cuts_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    expect(
        owner
            .post(
                &format!("/projects/{p}/participants"),
                json!({"label": "C01", "group": "Carer"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let created = expect(
        owner
            .post(
                &format!("/projects/{p}/documents"),
                json!({"title": "T", "text": "I: Go on.\n[00:00:07] C01: As a carer I never felt listened to.\n"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let doc = id(&created);
    let text: Vec<char> = created["text"].as_str().unwrap().chars().collect();
    assert_eq!(created["speakers"][1]["role"], "participant");

    // (what is coded, the words COUNTING.md gives it)
    let cases: Vec<(&str, (usize, usize), usize)> = vec![
        (
            "[00:00:07] C01: As a carer",
            between(&text, "[00:00:07]", "a carer"),
            3,
        ),
        ("01: As a carer", between(&text, "01: As", "a carer"), 3),
        (
            "00:07] C01: As a carer",
            between(&text, "00:07] C01", "a carer"),
            3,
        ),
        ("C01: As", span(&text, "C01: As"), 1),
        ("[00:00:07] C0", span(&text, "[00:00:07] C0"), 0),
        ("[00:00:07]", span(&text, "[00:00:07]"), 0),
        (
            "Go on.\n[00:00:07]",
            between(&text, "Go on.", "[00:00:07]"),
            0,
        ),
    ];
    let mut codes = Vec::new();
    for (i, (what, (start, end), _)) in cases.iter().enumerate() {
        let code = id(&expect(
            owner
                .post(
                    &format!("/projects/{p}/codes"),
                    json!({"name": format!("Cut {i}")}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await);
        let coding = expect(
            owner
                .post(
                    &format!("/projects/{p}/codings"),
                    json!({"document_id": doc, "code_id": code, "start": start, "end": end}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(coding["text"], *what);
        codes.push(code);
    }

    let words = expect(
        owner
            .get(&format!("/projects/{p}/matrix?columns=group&measure=words"))
            .await,
        StatusCode::OK,
    )
    .await;
    let references = expect(
        owner
            .get(&format!(
                "/projects/{p}/matrix?columns=group&measure=references"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let mut wrong = Vec::new();
    for ((what, _, want), code) in cases.iter().zip(&codes) {
        let row = |m: &Value| {
            m["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["code_id"] == *code)
                .unwrap()
                .clone()
        };
        assert_eq!(
            row(&references)["values"]["Carer"].as_f64(),
            Some(1.0),
            "{what:?} is attributed to C01"
        );
        let got = &row(&words)["values"]["Carer"];
        if got.as_f64() != Some(*want as f64) {
            wrong.push(format!(
                "coding {what:?}: expected {want} word(s) for Carer, got {got}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "speaker label fragments counted as words:\n{}",
        wrong.join("\n")
    );
}

/// Every matrix view of `p` as `api` sees it on `base` (a server).
async fn every_view(api: &Api, base: &str, p: ProjectId) -> Vec<Value> {
    let mut out = Vec::new();
    for columns in ["group", "attr:locality", "group,attr:locality"] {
        for rollup in ["false", "true"] {
            for measure in ["references", "cases", "documents", "words"] {
                let mut req = api
                    .client
                    .get(format!("{base}/api/v1/projects/{p}/matrix"))
                    .query(&[
                        ("columns", columns),
                        ("rollup", rollup),
                        ("measure", measure),
                    ]);
                if let Some(t) = &api.token {
                    req = req.bearer_auth(t);
                }
                out.push(expect(req.send().await.unwrap(), StatusCode::OK).await);
            }
        }
    }
    out
}

#[sqlx::test]
async fn the_matrix_follows_every_kind_of_change_at_once(pool: PgPool) {
    // One server counts before and after each change (its attributions are
    // kept in memory and refreshed); a second, new server each time counts
    // from nothing. They must agree.
    let app = TestApp::spawn(pool.clone()).await;
    let b = build(&app).await;
    let p = b.project;
    let kept = app.url("");
    let check = async |what: &str| {
        let warm = every_view(&b.owner, &kept, p).await;
        let fresh_app = TestApp::spawn(pool.clone()).await;
        let fresh = every_view(&b.owner, &fresh_app.url(""), p).await;
        assert!(
            warm == fresh,
            "after {what}, the kept counts differ from fresh ones"
        );
    };
    check("nothing").await;

    let codes = expect(
        b.owner.get(&format!("/projects/{p}/codes")).await,
        StatusCode::OK,
    )
    .await;
    let code = |i: usize| id(&items(&codes)[i]);
    let codings = expect(
        b.owner
            .get(&format!("/projects/{p}/codings?limit=1000"))
            .await,
        StatusCode::OK,
    )
    .await;
    let coding = |i: usize| items(&codings)[i].clone();

    // A new coding, by a coder.
    let c0 = coding(0);
    expect(
        b.coders[0]
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": c0["document_id"], "code_id": code(3),
                       "start": c0["start"], "end": c0["end"].as_i64().unwrap() - 1}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    check("a new coding").await;

    // A coding's range and code changed, another deleted.
    let c1 = coding(1);
    let res = b
        .owner
        .patch(
            &format!("/projects/{p}/codings/{}", id(&c1)),
            json!({"start": c1["start"], "end": c1["end"].as_i64().unwrap() - 1, "code_id": code(2)}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    check("a coding moved and recoded").await;
    let res = b
        .owner
        .delete(&format!("/projects/{p}/codings/{}", id(&coding(2))))
        .await;
    assert!(res.status().is_success());
    check("a coding deleted").await;

    // Codes merged, trashed, restored.
    let res = b
        .owner
        .post(
            &format!(
                "/projects/{p}/codes/{}/merge",
                id(items(&codes).last().unwrap())
            ),
            json!({"into": code(0)}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    check("a merge").await;
    let res = b
        .owner
        .delete(&format!("/projects/{p}/codes/{}", code(0)))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    check("a code trashed").await;
    let res = b
        .owner
        .post(
            &format!("/projects/{p}/codes/{}/restore", code(0)),
            json!({}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    check("a code restored").await;

    // A participant changes group and locality; another is deleted.
    let people = expect(
        b.owner
            .get(&format!("/projects/{p}/participants?limit=1000"))
            .await,
        StatusCode::OK,
    )
    .await;
    let groups = expect(
        b.owner.get(&format!("/projects/{p}/groups")).await,
        StatusCode::OK,
    )
    .await;
    let first = &items(&people)[0];
    let res = b
        .owner
        .patch(
            &format!("/projects/{p}/participants/{}", id(first)),
            json!({"group": items(&groups).last().unwrap()["name"],
                   "attributes": {"locality": "Elsewhere"}}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    check("a participant regrouped").await;
    let res = b
        .owner
        .delete(&format!(
            "/projects/{p}/participants/{}",
            id(&items(&people)[1])
        ))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    check("a participant deleted").await;

    // A document deleted.
    let res = b
        .owner
        .delete(&format!("/projects/{p}/documents/{}", b.docs[1]))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    check("a document deleted").await;
}

/// The href of the first link to `prefix…` in a page, unescaped.
fn link(page: &str, prefix: &str) -> String {
    let start = page
        .find(&format!("href=\"{prefix}"))
        .unwrap_or_else(|| panic!("no link to {prefix}"))
        + "href=\"".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&").replace("&#38;", "&")
}

#[sqlx::test]
async fn a_cell_over_several_documents_opens_exactly_its_excerpts(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let p = api.project("Links").await;
    api.participant(p, "P1", Some("Staff"), json!({})).await;
    let code = api.code(p, "Theme", None).await;
    let mut docs = Vec::new();
    for i in 0..3 {
        let (d, _) = api
            .document(p, &format!("Interview {i}"), "P1: one two three four\n")
            .await;
        api.map_speakers(p, d, json!([{"label": "P1", "participant": "P1"}]))
            .await;
        api.coding(p, d, code, 4, 7).await;
        api.coding(p, d, code, 8, 11).await;
        docs.push(d);
    }
    let chosen = format!("{},{}", docs[0], docs[1]);
    let m = expect(
        api.get(&format!("/projects/{p}/matrix?documents={chosen}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let cell = m["rows"][0]["values"]["Staff"].as_f64().unwrap();
    assert_eq!(cell, 4.0, "two codings in each of two documents");

    // The page's link for that cell narrows the excerpts to both documents.
    let browser = app.signed_in("ann@example.org").await;
    let page = app
        .page_text(
            &browser,
            &format!(
                "/projects/{p}/matrix?document={}&document={}",
                docs[0], docs[1]
            ),
        )
        .await;
    let href = link(&page, &format!("/projects/{p}/codes/{code}?"));
    assert!(href.contains(&format!("documents={chosen}")), "{href}");
    let excerpts = app.page_text(&browser, &href).await;
    let found = excerpts
        .find(" found</span>")
        .map(|i| &excerpts[excerpts[..i].rfind('>').unwrap() + 1..i]);
    assert_eq!(
        found,
        Some("4"),
        "the excerpt page counts as the cell: {href}"
    );
    // The API lists the same.
    let query = href.split_once('?').unwrap().1;
    let list = expect(
        api.get(&format!("/projects/{p}/codings?code_id={code}&{query}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["total"], 4);
}

#[sqlx::test]
async fn a_cell_by_attribute_with_a_participant_filter_opens_exactly_its_excerpts(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let p = api.project("Links").await;
    // Nurses and social workers in two localities.
    for (label, locality, profession) in [
        ("P1", "North", "Nurse"),
        ("P2", "North", "Social worker"),
        ("P3", "South", "Nurse"),
    ] {
        api.participant(
            p,
            label,
            Some("Staff"),
            json!({"locality": locality, "profession": profession}),
        )
        .await;
    }
    let code = api.code(p, "Theme", None).await;
    let (d, text) = api
        .document(
            p,
            "Focus group",
            "P1: alpha beta\nP2: gamma delta\nP3: epsilon zeta\n",
        )
        .await;
    for label in ["P1", "P2", "P3"] {
        let at = text.find(&format!("{label}:")).unwrap() as i64;
        api.coding(p, d, code, at + 4, at + 9).await;
    }
    let m = expect(
        api.get(&format!(
            "/projects/{p}/matrix?columns=attr:locality&attribute=profession%3DNurse"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        m["rows"][0]["values"]["North"].as_f64(),
        Some(1.0),
        "P1 only"
    );
    let browser = app.signed_in("ann@example.org").await;
    let page = app
        .page_text(
            &browser,
            &format!("/projects/{p}/matrix?columns=attr%3Alocality&attribute=profession%3DNurse"),
        )
        .await;
    let href = link(&page, &format!("/projects/{p}/codes/{code}?"));
    let query = href.split_once('?').unwrap().1;
    let list = expect(
        api.get(&format!("/projects/{p}/codings?code_id={code}&{query}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        list["total"], 1,
        "the column's locality and the profession filter: {href}"
    );
    assert_eq!(items(&list)[0]["speakers"][0]["participant"], "P1");
    // The co-occurrence table as files: a second code over P1's passage.
    let other = api.code(p, "Other", None).await;
    let at = text.find("P1:").unwrap() as i64;
    api.coding(p, d, other, at + 4, at + 14).await;
    let csv = api
        .get(&format!("/projects/{p}/exports/cooccurrence.csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("code_a,code_b,overlapping_codings,shared_cases\n"),
        "{csv}"
    );
    assert!(csv.contains("Theme,Theme,3,3\n"), "{csv}");
    assert!(
        csv.contains("Theme,Other,1,1\n") || csv.contains("Other,Theme,1,1\n"),
        "{csv}"
    );
    let xlsx = api
        .get(&format!(
            "/projects/{p}/exports/cooccurrence.xlsx?attribute=profession%3DNurse"
        ))
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
}

#[sqlx::test]
async fn a_total_opens_exactly_the_excerpts_it_counts(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let p = api.project("Totals").await;
    api.participant(p, "P1", Some("Staff"), json!({"profession": "Nurse"}))
        .await;
    api.participant(p, "P2", Some("Carer"), json!({})).await;
    let code = api.code(p, "Theme", None).await;
    let (d, text) = api
        .document(
            p,
            "Focus group",
            "Interviewer: tell me more\nP1: alpha beta\nP2: gamma delta\nP9: epsilon zeta\n",
        )
        .await;
    // An interviewer's words are never counted; P9 is mapped to no one.
    for label in ["Interviewer", "P1", "P2", "P9"] {
        let at = text.find(&format!("{label}:")).unwrap() as i64 + label.len() as i64 + 2;
        api.coding(p, d, code, at, at + 4).await;
    }
    let browser = app.signed_in("ann@example.org").await;
    for (query, want) in [("", 3), ("&attribute=profession%3DNurse", 1)] {
        let m = expect(
            api.get(&format!("/projects/{p}/matrix?measure=references{query}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(m["rows"][0]["total"].as_f64(), Some(want as f64), "{query}");
        let page = app
            .page_text(
                &browser,
                &format!("/projects/{p}/matrix?measure=references{query}"),
            )
            .await;
        let start = page
            .find("class=\"num total-col\"><a href=\"")
            .expect("the total is a link")
            + "class=\"num total-col\"><a href=\"".len();
        let href = page[start..start + page[start..].find('"').unwrap()]
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        let q = href.split_once('?').unwrap().1;
        let list = expect(
            api.get(&format!("/projects/{p}/codings?code_id={code}&{q}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["total"], want, "{query}: {href}");
    }
}

/// Every number of the theme table's print view opens the excerpts it
/// counts: each link's excerpt list holds as many as the cell's references,
/// under the table's column, participant filter and roll-up.
#[sqlx::test]
async fn every_number_of_the_printed_theme_table_opens_its_excerpts(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let p = api.project("Printed").await;
    for (label, group, locality, profession) in [
        ("P1", "Staff", "North", "Nurse"),
        ("P2", "Staff", "South", "Nurse"),
        ("P3", "Carer", "North", "Nurse"),
        ("P4", "Carer", "South", "Social worker"),
    ] {
        api.participant(
            p,
            label,
            Some(group),
            json!({"locality": locality, "profession": profession}),
        )
        .await;
    }
    let parent = api.code(p, "Access", None).await;
    let child = api.code(p, "Waiting", Some(parent)).await;
    let (d, text) = api
        .document(
            p,
            "Focus group",
            "Interviewer: go on\nP1: alpha beta gamma\nP2: delta epsilon\nP3: zeta eta theta\nP4: iota kappa\n",
        )
        .await;
    for (label, code) in [
        ("P1", parent),
        ("P2", child),
        ("P3", child),
        ("P4", parent),
        ("P4", child),
    ] {
        let at = text.find(&format!("{label}:")).unwrap() as i64 + 4;
        api.coding(p, d, code, at, at + 5).await;
    }
    let browser = app.signed_in("ann@example.org").await;
    for query in [
        "columns=group",
        "columns=group&rollup=true",
        "columns=attr%3Alocality&attribute=profession%3DNurse",
        "columns=attr%3Alocality&rollup=true&document_id=0",
    ] {
        let query = query.replace("document_id=0", &format!("documents={d}"));
        let page = browser
            .get(app.url(&format!("/projects/{p}/theme-table?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{query}");
        let page = page.text().await.unwrap();
        let mut links = 0;
        for piece in page.split("class=\"cell-link\" href=\"").skip(1) {
            let href = piece[..piece.find('"').unwrap()]
                .replace("&amp;", "&")
                .replace("&#38;", "&");
            let refs: i64 = piece
                .split("<span class=\"col-n\">")
                .nth(1)
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no count after {href}"));
            let (path, q) = href.split_once('?').unwrap();
            let code = path.rsplit('/').next().unwrap();
            let list = expect(
                api.get(&format!("/projects/{p}/codings?code_id={code}&{q}"))
                    .await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(list["total"], refs, "{query}: {href}");
            links += 1;
        }
        assert!(links >= 4, "{query}: only {links} links");
    }
}
