//! `parley demo`: a ready demo project, so a newcomer sees every feature in
//! a minute — participants in three groups and three localities, a dozen
//! transcripts whose speakers map themselves, a starter codebook, a couple
//! of hundred codings that make the matrix worth reading, starred quotes
//! and memos — and a staff questionnaire in two waves whose small overall
//! change hides localities moving apart ([`survey`]).
//!
//! Everything is synthetic, written for Parley and modelled on an
//! evaluation of integrated mental-health services. The
//! data lives in readable files under `src/demo/`; codings are written as
//! exact quotes and placed where the quote occurs in the stored text. It is
//! all made through the same `store` and `transcripts` functions as the web.

pub mod survey;
use crate::domain::code::Colour;
use crate::domain::document::DocumentKind;
use crate::domain::ids::{CodeId, DocumentId, ProjectId, UserId};
use crate::domain::participant::{self, Attributes};
use crate::domain::project::ProjectName;
use crate::domain::speakers::SpeakerRole;
use crate::domain::text;
use crate::service::transcripts::{self, ImportOptions};
use crate::store;
use crate::store::codes::{CodeChanges, NewCode};
use crate::store::codings::{Actor, CodingChanges, NewCoding};
use crate::store::participants::NewParticipant;
use crate::store::users::User;
use anyhow::{Context, anyhow, bail};
use sqlx::PgPool;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use time::Date;

/// The demo project's name; a second demo of the same owner gets " (2)".
pub const NAME: &str = "Demo: integrated mental health services (synthetic)";

const DESCRIPTION: &str = "Synthetic transcripts written for Parley, modelled on an evaluation of \
integrated mental-health services: interviews and focus groups with staff, service users and \
carers in three (invented) localities, 2004. No real people or services.";

const PROJECT_MEMO: &str = include_str!("demo/project-memo.txt");
const PARTICIPANTS: &str = include_str!("demo/participants.txt");
const CODEBOOK: &str = include_str!("demo/codebook.txt");
const CODINGS: &str = include_str!("demo/codings.txt");
const DOCUMENTS: &str = include_str!("demo/documents.txt");

/// The transcripts, by file name (without `.txt`).
const TEXTS: [(&str, &str); 12] = [
    ("s01-interview", include_str!("demo/s01-interview.txt")),
    ("s02-interview", include_str!("demo/s02-interview.txt")),
    ("s03-interview", include_str!("demo/s03-interview.txt")),
    ("s05-interview", include_str!("demo/s05-interview.txt")),
    ("u01-interview", include_str!("demo/u01-interview.txt")),
    ("u02-interview", include_str!("demo/u02-interview.txt")),
    ("u03-interview", include_str!("demo/u03-interview.txt")),
    ("u05-interview", include_str!("demo/u05-interview.txt")),
    ("c01-interview", include_str!("demo/c01-interview.txt")),
    ("c03-interview", include_str!("demo/c03-interview.txt")),
    (
        "staff-focus-group",
        include_str!("demo/staff-focus-group.txt"),
    ),
    (
        "users-carers-focus-group",
        include_str!("demo/users-carers-focus-group.txt"),
    ),
];

/// A transcript as `documents.txt` lists it.
#[derive(Debug)]
pub struct Doc {
    /// Its file under `src/demo/` (without `.txt`), as `codings.txt` names it.
    pub key: &'static str,
    pub title: &'static str,
    pub kind: DocumentKind,
    /// The participant of a one-to-one interview.
    pub participant: Option<&'static str>,
    pub held_on: Date,
    pub memo: &'static str,
    pub text: &'static str,
}

/// A participant as `participants.txt` lists it.
#[derive(Debug)]
pub struct Person {
    pub label: &'static str,
    pub group: &'static str,
    pub attributes: Attributes,
}

/// A code as `codebook.txt` describes it.
#[derive(Debug, Default)]
pub struct CodeSpec {
    pub name: &'static str,
    pub parent: Option<&'static str>,
    pub colour: &'static str,
    pub key: Option<&'static str>,
    pub definition: &'static str,
    pub include: &'static str,
    pub exclude: &'static str,
    pub example: &'static str,
    pub memo: &'static str,
}

/// A coding as `codings.txt` writes it: an exact quote of a document.
#[derive(Debug)]
pub struct Quote {
    pub document: &'static str,
    pub code: &'static str,
    pub quote: &'static str,
    pub memo: &'static str,
    pub starred: bool,
}

/// The data lines of a file (numbered from 1), without blanks and `//` comments.
fn lines(data: &'static str) -> impl Iterator<Item = (usize, &'static str)> {
    data.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with("//"))
}

pub fn documents() -> anyhow::Result<Vec<Doc>> {
    let day = time::macros::format_description!("[year]-[month]-[day]");
    lines(DOCUMENTS)
        .map(|(n, line)| {
            let at = || format!("documents.txt line {n}");
            let fields: Vec<&str> = line.splitn(6, '|').map(str::trim).collect();
            let [key, title, kind, participant, held_on, rest @ ..] = fields.as_slice() else {
                bail!(
                    "{}: write file | title | kind | participant | held on [| memo]",
                    at()
                );
            };
            let (_, text) = TEXTS
                .iter()
                .find(|(k, _)| k == key)
                .with_context(|| format!("{}: {key} is not in TEXTS", at()))?;
            Ok(Doc {
                key,
                title,
                kind: DocumentKind::parse(kind).with_context(at)?,
                participant: Some(*participant).filter(|p| !p.is_empty()),
                held_on: Date::parse(held_on, day).with_context(at)?,
                memo: rest.first().copied().unwrap_or(""),
                text,
            })
        })
        .collect()
}

pub fn participants() -> anyhow::Result<Vec<Person>> {
    lines(PARTICIPANTS)
        .map(|(n, line)| {
            let mut fields = line.split('|').map(str::trim);
            let (Some(label), Some(group), attrs) = (fields.next(), fields.next(), fields.next())
            else {
                bail!("participants.txt line {n}: write label | group | attributes");
            };
            let pairs = attrs
                .unwrap_or("")
                .split(';')
                .filter(|p| !p.trim().is_empty())
                .map(|p| p.split_once('=').unwrap_or((p, "")));
            let attributes = participant::attributes(pairs)
                .with_context(|| format!("participants.txt line {n}"))?;
            Ok(Person {
                label,
                group,
                attributes,
            })
        })
        .collect()
}

pub fn codebook() -> anyhow::Result<Vec<CodeSpec>> {
    let mut codes: Vec<CodeSpec> = Vec::new();
    let mut theme = None;
    for (n, line) in lines(CODEBOOK) {
        if let Some(name) = line.strip_prefix("## ") {
            let parent = theme
                .with_context(|| format!("codebook.txt line {n}: a sub-code before any theme"))?;
            codes.push(CodeSpec {
                name,
                parent: Some(parent),
                ..Default::default()
            });
            continue;
        }
        if let Some(name) = line.strip_prefix("# ") {
            theme = Some(name);
            codes.push(CodeSpec {
                name,
                ..Default::default()
            });
            continue;
        }
        let code = codes
            .last_mut()
            .with_context(|| format!("codebook.txt line {n}: a field before any code"))?;
        let (field, value) = line
            .split_once(':')
            .map(|(f, v)| (f.trim(), v.trim()))
            .unwrap_or(("", ""));
        let slot = match field {
            "colour" => &mut code.colour,
            "definition" => &mut code.definition,
            "include" => &mut code.include,
            "exclude" => &mut code.exclude,
            "example" => &mut code.example,
            "memo" => &mut code.memo,
            "key" => {
                code.key = Some(value);
                continue;
            }
            _ => bail!(
                "codebook.txt line {n}: expected “field: text” (colour, key, definition, include, exclude, example or memo)"
            ),
        };
        *slot = value;
    }
    Ok(codes)
}

pub fn codings() -> anyhow::Result<Vec<Quote>> {
    lines(CODINGS)
        .map(|(n, line)| {
            let (starred, line) = match line.strip_prefix('*') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let mut fields = line.splitn(4, '|').map(str::trim);
            let (Some(document), Some(code), Some(quote)) =
                (fields.next(), fields.next(), fields.next())
            else {
                bail!("codings.txt line {n}: write document | code | quote [| memo]");
            };
            Ok(Quote {
                document,
                code,
                quote,
                memo: fields.next().unwrap_or(""),
                starred,
            })
        })
        .collect()
}

/// Where `quote` first occurs in `text`, as a code-point range `[start, end)`.
pub fn locate(text: &str, quote: &str) -> Option<(usize, usize)> {
    let quote = text::normalise(quote);
    let byte = text.find(quote.as_str()).filter(|_| !quote.is_empty())?;
    let start = text[..byte].chars().count();
    Some((start, start + quote.chars().count()))
}

/// The transcript of a demo document, read as an import of its file reads it.
pub fn transcript(doc: &Doc) -> anyhow::Result<transcripts::Transcript> {
    transcripts::read_file(&format!("{}.txt", doc.key), doc.text.as_bytes())
        .map_err(|e| anyhow!("{}.txt: {e}", doc.key))
}

/// What the demo made.
#[derive(Debug, Clone)]
pub struct Summary {
    pub project: ProjectId,
    pub name: String,
    pub documents: usize,
    pub participants: usize,
    pub codes: usize,
    pub codings: usize,
    pub starred: usize,
    pub memos: usize,
    pub took: Duration,
}

/// `parley demo [--email E]`.
pub async fn run(url: &str, email: Option<&str>) -> anyhow::Result<()> {
    let db = store::prepare(url, 2).await?;
    let owner = owner(&db, email).await?;
    let s = create(&db, &owner).await?;
    println!(
        "Created “{}” for {} in {:.1} s: {} documents, {} participants, {} codes, {} codings ({} starred), {} memos.",
        s.name,
        owner.email,
        s.took.as_secs_f64(),
        s.documents,
        s.participants,
        s.codes,
        s.codings,
        s.starred,
        s.memos
    );
    println!("Project id: {}", s.project);
    println!("Open it at /projects/{}", s.project);
    Ok(())
}

/// The demo's owner: the account with `email`, or else the first administrator.
pub async fn owner(db: &PgPool, email: Option<&str>) -> anyhow::Result<User> {
    if let Some(email) = email {
        return store::users::by_email(db, email).await?.with_context(|| {
            format!("no account has the e-mail {email}; create it first with `parley user add --email {email} --name …`")
        });
    }
    if !store::users::any_exist(db).await? {
        bail!(
            "there is no account yet: create one first, with `parley user add --email … --name … --admin` \
             or on the first-run page of `parley serve`, then run `parley demo` again"
        );
    }
    let first_admin = store::users::first_admin_email(db).await?;
    match first_admin {
        Some(email) => store::users::by_email(db, &email)
            .await?
            .context("the first administrator's account has just gone"),
        None => {
            bail!("there is no administrator account; name the demo project's owner with --email")
        }
    }
}

/// Create the demo project for `owner`. On failure the half-made project is
/// deleted again and the error says what failed.
pub async fn create(db: &PgPool, owner: &User) -> anyhow::Result<Summary> {
    let started = Instant::now();
    // Read all the data first, so a mistake in it writes nothing.
    let data = Data {
        documents: documents()?,
        people: participants()?,
        codebook: codebook()?,
        quotes: codings()?,
    };
    let name = free_name(db, owner.id).await?;
    let project = store::projects::insert(db, owner.id, &ProjectName::parse(&name)?, DESCRIPTION)
        .await
        .context("cannot create the demo project")?;
    match fill(db, project.id, owner.id, &data).await {
        Ok(mut summary) => {
            summary.name = name;
            summary.took = started.elapsed();
            Ok(summary)
        }
        Err(e) => match store::projects::delete(db, project.id).await {
            Ok(()) => Err(e.context("the demo project could not be completed, so it was removed")),
            Err(d) => Err(e.context(format!(
                "the demo project could not be completed, and removing the half-made project {} failed too ({d})",
                project.id
            ))),
        },
    }
}

/// `NAME`, or `NAME (2)`, `NAME (3)` … when the owner already has one.
async fn free_name(db: &PgPool, owner: UserId) -> anyhow::Result<String> {
    let (projects, _) = store::projects::list_for_member(db, owner, i64::from(i32::MAX), 0).await?;
    let taken = |name: &str| projects.iter().any(|p| p.project.name == name);
    let mut name = NAME.to_owned();
    let mut n = 1;
    while taken(&name) {
        n += 1;
        name = format!("{NAME} ({n})");
    }
    Ok(name)
}

/// The demo's data files, read.
struct Data {
    documents: Vec<Doc>,
    people: Vec<Person>,
    codebook: Vec<CodeSpec>,
    quotes: Vec<Quote>,
}

async fn fill(
    db: &PgPool,
    project: ProjectId,
    owner: UserId,
    data: &Data,
) -> anyhow::Result<Summary> {
    let Data {
        documents: docs,
        people,
        codebook,
        quotes,
    } = data;
    // Participants, in the project's default groups.
    let groups: HashMap<String, _> = store::groups::list(db, project)
        .await?
        .into_iter()
        .map(|g| (g.name, g.id))
        .collect();
    let rows = people
        .iter()
        .map(|p| {
            Ok(NewParticipant {
                label: p.label.to_owned(),
                group: Some(
                    *groups
                        .get(p.group)
                        .with_context(|| format!("{}: no group {}", p.label, p.group))?,
                ),
                attributes: p.attributes.clone(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    store::participants::insert_all(db, project, &rows)
        .await
        .context("cannot add the participants")?;
    let ids: HashMap<String, _> = store::participants::list(db, project)
        .await?
        .into_iter()
        .map(|p| (p.label, p.id))
        .collect();

    // Documents, each with its speakers mapped, and its text as stored.
    let mut texts: HashMap<&str, (DocumentId, String)> = HashMap::new();
    let mut memos = 1; // the project's
    for doc in docs {
        let options = ImportOptions {
            title: Some(doc.title.to_owned()),
            kind: Some(doc.kind),
            held_on: Some(doc.held_on),
            attributes: Attributes::new(),
            participant: doc.participant.and_then(|l| ids.get(l).copied()),
        };
        let filename = format!("{}.txt", doc.key);
        let id = transcripts::store(
            db,
            project,
            Some(owner),
            Some(&filename),
            transcript(doc)?,
            &options,
        )
        .await
        .with_context(|| format!("cannot import {filename}"))?;
        let unmapped: Vec<String> = store::documents::speakers(db, project, id)
            .await?
            .into_iter()
            .filter(|s| s.role == SpeakerRole::Unassigned)
            .map(|s| s.label)
            .collect();
        if !unmapped.is_empty() {
            bail!("{filename}: speakers {unmapped:?} are not mapped to any participant");
        }
        if !doc.memo.is_empty() {
            store::memos::set_document(db, project, id, owner, doc.memo).await?;
            memos += 1;
        }
        let stored = store::documents::text(db, project, id)
            .await?
            .with_context(|| format!("{filename} is gone"))?;
        texts.insert(doc.key, (id, stored));
    }

    // The codebook, themes before their sub-codes.
    let mut code_ids: HashMap<&str, CodeId> = HashMap::new();
    for spec in codebook {
        let parent = match spec.parent {
            Some(p) => Some(
                *code_ids
                    .get(p)
                    .with_context(|| format!("{}: no parent code {p}", spec.name))?,
            ),
            None => None,
        };
        let new = NewCode {
            parent,
            name: spec.name.to_owned(),
            colour: Some(
                Colour::parse(spec.colour)
                    .with_context(|| format!("the colour of {}", spec.name))?,
            ),
            definition: spec.definition.to_owned(),
            inclusion: spec.include.to_owned(),
            exclusion: spec.exclude.to_owned(),
            example: spec.example.to_owned(),
            shortcut: spec.key.map(str::to_owned),
        };
        let id = store::codes::insert(db, project, owner, &new)
            .await
            .with_context(|| format!("cannot add the code {}", spec.name))?;
        if !spec.memo.is_empty() {
            let memo = CodeChanges {
                memo: Some(spec.memo.to_owned()),
                ..Default::default()
            };
            store::codes::update(db, project, id, owner, &memo).await?;
            memos += 1;
        }
        code_ids.insert(spec.name, id);
    }

    // The codings, at their quotes.
    let actor = Actor {
        user: owner,
        owner: true,
    };
    let (mut codings, mut starred) = (0, 0);
    for q in quotes {
        let (document, text) = texts
            .get(q.document)
            .with_context(|| format!("no demo document {}", q.document))?;
        let code = *code_ids
            .get(q.code)
            .with_context(|| format!("no demo code {}", q.code))?;
        let (start, end) = locate(text, q.quote)
            .with_context(|| format!("the quote “{}” is not in {}", q.quote, q.document))?;
        let new = NewCoding {
            document: *document,
            code,
            start: i32::try_from(start)?,
            end: i32::try_from(end)?,
            memo: q.memo.to_owned(),
        };
        let (coding, _) = store::codings::insert(db, project, owner, new)
            .await
            .with_context(|| format!("cannot code “{}” in {}", q.quote, q.document))?;
        codings += 1;
        memos += usize::from(!q.memo.is_empty());
        if q.starred {
            let star = CodingChanges {
                starred: Some(true),
                ..Default::default()
            };
            store::codings::update(db, project, coding.id, actor, &star).await?;
            starred += 1;
        }
    }

    store::memos::set_project(db, project, owner, PROJECT_MEMO.trim()).await?;
    add_survey(db, project, owner).await?;
    Ok(Summary {
        project,
        name: String::new(),
        documents: docs.len(),
        participants: people.len(),
        codes: codebook.len(),
        codings,
        starred,
        memos,
        took: Duration::ZERO,
    })
}

/// The staff questionnaire and its two scales.
async fn add_survey(db: &PgPool, project: ProjectId, owner: UserId) -> anyhow::Result<()> {
    use crate::store::surveys::{NewSurvey, ScaleRow};
    let columns = survey::columns();
    let items: Vec<String> = survey::ROLE_CLARITY
        .iter()
        .chain(&survey::JOB_SATISFACTION)
        .map(|s| (*s).to_owned())
        .collect();
    let responses = survey::responses();
    let new = NewSurvey {
        name: "Staff survey 2002–2004",
        file_name: "staff-survey.csv",
        columns: &columns,
        items: &items,
        responses: &responses,
    };
    let id = store::surveys::save(db, project, owner, None, &new)
        .await
        .context("cannot write the demo survey")?;
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    for (name, items, reverse, min_items) in [
        (
            "Role clarity",
            owned(&survey::ROLE_CLARITY),
            owned(&survey::ROLE_CLARITY_REVERSED),
            4,
        ),
        (
            "Job satisfaction",
            owned(&survey::JOB_SATISFACTION),
            owned(&survey::JOB_SATISFACTION_REVERSED),
            3,
        ),
    ] {
        let row = ScaleRow {
            id: 0,
            survey_id: id,
            name: name.into(),
            items,
            reverse,
            min: 1.0,
            max: 5.0,
            score: "mean".into(),
            min_items: Some(min_items),
        };
        store::surveys::insert_scale(db, &row).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::speakers::is_interviewer_label;
    use std::collections::{BTreeMap, HashSet};

    /// Each demo document, with its text as stored and who speaks where.
    fn read() -> Vec<(Doc, transcripts::Transcript)> {
        documents()
            .unwrap()
            .into_iter()
            .map(|d| {
                let t = transcript(&d).unwrap();
                (d, t)
            })
            .collect()
    }

    /// The speaker of the turn that holds `[start, end)`; `None` when the
    /// range is not inside one turn.
    fn speaker_at(t: &transcripts::Transcript, start: usize, end: usize) -> Option<&str> {
        t.turns
            .iter()
            .find(|turn| turn.start <= start && end <= turn.end)
            .and_then(|turn| turn.speaker.as_deref())
    }

    #[test]
    fn the_data_files_parse() {
        let docs = documents().unwrap();
        assert_eq!(docs.len(), TEXTS.len());
        for (key, _) in TEXTS {
            assert_eq!(docs.iter().filter(|d| d.key == key).count(), 1, "{key}");
        }
        assert_eq!(participants().unwrap().len(), 16);
        assert_eq!(codebook().unwrap().len(), 15);
        assert!(codings().unwrap().len() > 150);
        assert!(PROJECT_MEMO.trim().len() > 100);
    }

    #[test]
    fn every_quote_occurs_once_in_its_document_inside_a_participants_turn() {
        let docs = read();
        let mut seen = HashSet::new();
        for q in codings().unwrap() {
            let (_, t) = docs
                .iter()
                .find(|(d, _)| d.key == q.document)
                .unwrap_or_else(|| panic!("no document {}", q.document));
            let (start, end) = locate(&t.text, q.quote)
                .unwrap_or_else(|| panic!("“{}” is not in {}", q.quote, q.document));
            let chars: String = t.text.chars().skip(start).take(end - start).collect();
            assert_eq!(chars, text::normalise(q.quote));
            assert_eq!(
                t.text.matches(q.quote).count(),
                1,
                "“{}” occurs more than once in {}",
                q.quote,
                q.document
            );
            let speaker =
                speaker_at(t, start, end).unwrap_or_else(|| panic!("“{}” spans turns", q.quote));
            assert!(
                !is_interviewer_label(speaker),
                "“{}” is the interviewer's",
                q.quote
            );
            assert!(
                seen.insert((q.document, q.code, q.quote)),
                "“{}” is coded {} twice",
                q.quote,
                q.code
            );
        }
    }

    #[test]
    fn every_speaker_is_the_interviewer_or_a_participant() {
        let labels: HashSet<&str> = participants().unwrap().iter().map(|p| p.label).collect();
        let mut speaking: HashSet<String> = HashSet::new();
        for (doc, t) in read() {
            let speakers: HashSet<&str> = t
                .turns
                .iter()
                .map(|turn| turn.speaker.as_deref().expect("labelled"))
                .collect();
            let others: Vec<&str> = speakers
                .iter()
                .copied()
                .filter(|s| !is_interviewer_label(s))
                .collect();
            for s in &others {
                assert!(labels.contains(s), "{}: {s} is not a participant", doc.key);
                speaking.insert(s.to_string());
            }
            match doc.participant {
                Some(p) => assert_eq!(others, [p], "{}", doc.key),
                None => assert!((4..=6).contains(&others.len()), "{}: {others:?}", doc.key),
            }
            let words = t.text.split_whitespace().count();
            let range = if doc.kind == DocumentKind::FocusGroup {
                1200..=1800
            } else {
                600..=1200
            };
            assert!(range.contains(&words), "{} has {words} words", doc.key);
        }
        assert_eq!(
            speaking,
            labels.iter().map(|l| l.to_string()).collect(),
            "every participant speaks somewhere"
        );
        assert!(
            TEXTS.iter().any(|(_, t)| t.contains("Zoë"))
                && TEXTS.iter().any(|(_, t)| t.contains("café"))
        );
    }

    #[test]
    fn the_codebook_is_a_valid_tree_and_every_coded_code_is_in_it() {
        let codes = codebook().unwrap();
        let mut names = HashSet::new();
        let mut keys = HashSet::new();
        for c in &codes {
            assert!(names.insert(c.name), "{} twice", c.name);
            assert!(
                Colour::parse(c.colour).is_ok(),
                "{}: colour {:?}",
                c.name,
                c.colour
            );
            assert!(
                !c.definition.is_empty() && !c.example.is_empty(),
                "{}",
                c.name
            );
            if let Some(k) = c.key {
                assert!(keys.insert(k), "shortcut {k} twice");
            }
            if let Some(p) = c.parent {
                assert!(codes.iter().any(|t| t.name == p && t.parent.is_none()));
                assert!(!c.include.is_empty() && !c.exclude.is_empty(), "{}", c.name);
            }
        }
        for q in codings().unwrap() {
            assert!(names.contains(q.code), "{} is not in the codebook", q.code);
        }
        // One or two illustrative quotes per theme.
        let theme = |code: &str| {
            let c = codes.iter().find(|c| c.name == code).unwrap();
            c.parent.unwrap_or(c.name)
        };
        for t in codes.iter().filter(|c| c.parent.is_none()) {
            let stars = codings()
                .unwrap()
                .iter()
                .filter(|q| q.starred && theme(q.code) == t.name)
                .count();
            assert!((1..=2).contains(&stars), "{}: {stars} stars", t.name);
        }
    }

    /// The story the matrix should tell: references per code and column.
    #[test]
    fn the_matrix_shows_real_group_and_locality_differences() {
        let people = participants().unwrap();
        let docs = read();
        // code → column → references
        let mut by_group: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
        let mut by_locality: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
        for q in codings().unwrap() {
            let (_, t) = docs.iter().find(|(d, _)| d.key == q.document).unwrap();
            let (start, end) = locate(&t.text, q.quote).unwrap();
            let who = speaker_at(t, start, end).unwrap();
            let p = people.iter().find(|p| p.label == who).unwrap();
            *by_group
                .entry(q.code)
                .or_default()
                .entry(p.group)
                .or_default() += 1;
            *by_locality
                .entry(q.code)
                .or_default()
                .entry(p.attributes["locality"].as_str())
                .or_default() += 1;
        }
        let n = |m: &BTreeMap<&str, BTreeMap<&str, usize>>, code: &str, col: &str| {
            m[code].get(col).copied().unwrap_or(0)
        };
        let (staff, users, carers) = ("Staff", "Service user", "Carer");
        assert!(n(&by_group, "Sanctuary", users) > 3 * n(&by_group, "Sanctuary", staff));
        assert!(n(&by_group, "Carer focus", carers) > n(&by_group, "Carer focus", staff));
        assert!(n(&by_group, "Carer focus", carers) > 2 * n(&by_group, "Carer focus", users));
        assert!(
            n(&by_group, "Fears over safety", carers) > n(&by_group, "Fears over safety", staff)
        );
        for code in ["Role clarity", "Recruitment difficulties", "Joint working"] {
            assert!(
                n(&by_group, code, staff) > n(&by_group, code, users) + n(&by_group, code, carers),
                "{code}"
            );
        }
        let privacy = |l| n(&by_locality, "Lack of privacy", l);
        assert!(privacy("Northvale") > 4 * (privacy("Riverside") + privacy("Eastmoor")));
        let recruitment = |l| n(&by_locality, "Recruitment difficulties", l);
        assert!(recruitment("Eastmoor") > recruitment("Riverside") + recruitment("Northvale"));
    }

    #[test]
    fn quotes_are_located_in_code_points() {
        assert_eq!(locate("Zoë said – “hi”", "said – “hi”"), Some((4, 15)));
        assert_eq!(locate("abc", "x"), None);
        assert_eq!(locate("abc", ""), None);
    }
}
