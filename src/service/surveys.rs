//! Questionnaires: importing a survey file (checked whole before anything
//! is written), scales with their reliability, and the comparison of a
//! scale between two waves, overall and within each value of an attribute
//! — the test of whether an overall change masks differences between
//! localities. The statistics are in [`crate::domain::survey`].

use super::{Access, Error, Result};
use crate::domain::project::Role;
use crate::domain::questionnaire::{self as q, Column, ColumnKind, Problem, Response};
use crate::domain::survey::{
    self as stats, Descriptives, Effect, Reliability, Scale, Scoring, WelchTest,
};
use crate::formats::survey_file;
use crate::store;
use crate::store::surveys::{NewSurvey, ScaleRow, Stored, Survey};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A survey upload as the doors read it: the file and the form's fields,
/// still text.
#[derive(Debug, Default)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub name: Option<String>,
    pub dry_run: Option<String>,
    pub replace: Option<String>,
    /// Corrections to the guessed kinds: JSON `[{"name", "kind"}]` or
    /// `name:kind,name:kind`.
    pub columns: Option<String>,
    /// The items' response range, to check values against.
    pub min: Option<String>,
    pub max: Option<String>,
}

/// How a re-import would change a survey's responses. Responses are
/// matched by wave and respondent (by line when there is no respondent).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Difference {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub unchanged: usize,
}

/// What an import found and did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The survey written (none on a dry run or with errors).
    pub survey: Option<Survey>,
    pub columns: Vec<Column>,
    pub errors: Vec<Problem>,
    pub responses: usize,
    pub waves: BTreeMap<String, usize>,
    /// Against the survey of the same name, when there is one.
    pub difference: Option<Difference>,
    pub replaced: bool,
}

fn flag(field: &'static str, raw: Option<&str>) -> Result<bool> {
    Ok(super::analysis::matrix::flag(field, raw)?)
}

fn float(field: &'static str, raw: Option<&str>) -> Result<Option<f64>> {
    raw.map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            q::number(r).ok_or_else(|| Error::invalid(field, format!("{field} must be a number")))
        })
        .transpose()
}

/// The items' response range, when both ends are sent.
fn range(up: &Upload) -> Result<Option<(f64, f64)>> {
    match (
        float("min", up.min.as_deref())?,
        float("max", up.max.as_deref())?,
    ) {
        (Some(lo), Some(hi)) if lo < hi => Ok(Some((lo, hi))),
        (None, None) => Ok(None),
        _ => Err(Error::invalid(
            "max",
            "send min and max together, min below max",
        )),
    }
}

/// The kinds sent to correct the guess, by column name.
fn corrections(raw: Option<&str>) -> Result<Vec<Column>> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(Vec::new());
    };
    if raw.starts_with('[') {
        return serde_json::from_str(raw).map_err(|e| {
            Error::invalid(
                "columns",
                format!(
                    "columns must be [{{\"name\", \"kind\"}}] with kind respondent, wave, attribute, item or ignore: {e}"
                ),
            )
        });
    }
    raw.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (name, kind) = pair.rsplit_once(':').unwrap_or((pair, ""));
            let kind = ColumnKind::parse(kind).ok_or_else(|| {
                Error::invalid(
                    "columns",
                    format!("“{pair}”: write name:kind, kind one of respondent, wave, attribute, item, ignore"),
                )
            })?;
            Ok(Column {
                name: name.trim().to_owned(),
                kind,
            })
        })
        .collect()
}

fn apply(guessed: &mut [Column], fixes: &[Column]) -> Result<()> {
    for fix in fixes {
        let found = guessed
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(fix.name.trim()))
            .ok_or_else(|| {
                Error::invalid("columns", format!("the file has no column “{}”", fix.name))
            })?;
        found.kind = fix.kind;
    }
    Ok(())
}

fn survey_name(raw: Option<&str>, file_name: &str) -> Result<String> {
    let fallback = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem)
        .to_owned();
    let raw = raw
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or(&fallback);
    let name = crate::domain::text::name("name", raw)?;
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid(
            "name",
            "a survey needs a name of at most 200 characters",
        ));
    }
    Ok(name)
}

fn key(r: &Response) -> (String, String) {
    (
        r.wave.clone(),
        r.respondent
            .clone()
            .unwrap_or_else(|| format!("line {}", r.line)),
    )
}

fn difference(old: &[Stored], new: &[Response]) -> Difference {
    let old: HashMap<(String, String), &Stored> = old
        .iter()
        .map(|s| {
            let who = s
                .respondent
                .clone()
                .unwrap_or_else(|| format!("line {}", s.line));
            ((s.wave.clone(), who), s)
        })
        .collect();
    let mut d = Difference::default();
    let mut seen = 0;
    for r in new {
        match old.get(&key(r)) {
            None => d.added += 1,
            Some(s) => {
                seen += 1;
                if s.items == r.items && s.attributes == r.attributes {
                    d.unchanged += 1;
                } else {
                    d.changed += 1;
                }
            }
        }
    }
    d.removed = old.len() - seen;
    d
}

/// Read, check and (unless a dry run, or the file has problems) write a
/// survey. A survey of the same name is replaced only with `replace`.
pub async fn import(db: &PgPool, access: &Access, up: &Upload) -> Result<Outcome> {
    access.require(
        Role::Coder,
        "viewers can read this project but not change it",
    )?;
    let name = survey_name(up.name.as_deref(), &up.file_name)?;
    let (dry_run, replace) = (
        flag("dry_run", up.dry_run.as_deref())?,
        flag("replace", up.replace.as_deref())?,
    );
    let range = range(up)?;
    if up.bytes.is_empty() {
        return Err(Error::BadRequest(
            "choose a survey file (CSV or .xlsx) to upload".into(),
        ));
    }
    let table = read(up).await?;
    import_table(db, access, up, &name, (dry_run, replace), range, &table).await
}

async fn read(up: &Upload) -> Result<q::Table> {
    if up.bytes.is_empty() {
        return Err(Error::BadRequest(
            "choose a survey file (CSV or .xlsx) to upload".into(),
        ));
    }
    let (file_name, bytes) = (up.file_name.clone(), up.bytes.clone());
    tokio::task::spawn_blocking(move || survey_file::read(&file_name, &bytes))
        .await?
        .map_err(|e| Error::invalid("file", e.0))
}

async fn import_table(
    db: &PgPool,
    access: &Access,
    up: &Upload,
    name: &str,
    (dry_run, replace): (bool, bool),
    range: Option<(f64, f64)>,
    table: &q::Table,
) -> Result<Outcome> {
    let name = name.to_owned();
    let mut columns = q::classify(table);
    apply(&mut columns, &corrections(up.columns.as_deref())?)?;
    let checked = q::responses(table, &columns, range);
    let mut outcome = Outcome {
        survey: None,
        columns: columns.clone(),
        errors: Vec::new(),
        responses: 0,
        waves: BTreeMap::new(),
        difference: None,
        replaced: false,
    };
    let responses = match checked {
        Ok(r) => r,
        Err(problems) => {
            outcome.errors = problems;
            return Ok(outcome);
        }
    };
    outcome.responses = responses.len();
    for r in &responses {
        *outcome.waves.entry(r.wave.clone()).or_default() += 1;
    }
    let items: Vec<String> = columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Item)
        .map(|c| c.name.clone())
        .collect();
    let existing = store::surveys::by_name(db, access.id(), &name).await?;
    if let Some(id) = existing {
        let old = store::surveys::responses(db, id).await?;
        outcome.difference = Some(difference(&old, &responses));
        check_scales_kept(db, id, &items).await?;
    }
    if dry_run {
        return Ok(outcome);
    }
    if existing.is_some() && !replace {
        let d = outcome.difference.clone().unwrap_or_default();
        return Err(Error::Conflict(format!(
            "a survey named “{name}” exists; re-import with replace=true to replace its responses \
             ({} added, {} removed, {} changed, {} unchanged)",
            d.added, d.removed, d.changed, d.unchanged
        )));
    }
    let new = NewSurvey {
        name: &name,
        file_name: &up.file_name,
        columns: &columns,
        items: &items,
        responses: &responses,
    };
    let id = store::surveys::save(db, access.id(), access.user_id(), existing, &new)
        .await
        .map_err(|e| match store::violated_constraint(&e) {
            Some(store::surveys::NAME_TAKEN) => Error::Conflict(format!(
                "a survey named “{name}” was just imported by someone else"
            )),
            _ => e.into(),
        })?;
    outcome.replaced = existing.is_some();
    outcome.survey = store::surveys::list(db, access.id(), Some(id)).await?.pop();
    Ok(outcome)
}

/// A file checked but not written, as the import page shows it: what
/// [`import`] would do, the file as CSV (a workbook too, so the page can
/// send it back with the corrected kinds), and its first rows.
pub struct Preview {
    pub outcome: Outcome,
    pub name: String,
    pub csv: String,
    pub headers: Vec<String>,
    pub sample: Vec<(usize, Vec<String>)>,
}

pub async fn preview(db: &PgPool, access: &Access, up: &Upload) -> Result<Preview> {
    access.require(
        Role::Coder,
        "viewers can read this project but not change it",
    )?;
    let name = survey_name(up.name.as_deref(), &up.file_name)?;
    let range = range(up)?;
    let table = read(up).await?;
    let outcome = import_table(db, access, up, &name, (true, false), range, &table).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.headers).map_err(Error::internal)?;
    for (_, row) in &table.rows {
        w.write_record(row).map_err(Error::internal)?;
    }
    let bytes = super::csv_bytes(w)?;
    Ok(Preview {
        outcome,
        name,
        csv: String::from_utf8_lossy(&bytes).into_owned(),
        headers: table.headers.clone(),
        sample: table.rows.iter().take(8).cloned().collect(),
    })
}

/// A replacement may not drop an item a scale is made of.
async fn check_scales_kept(db: &PgPool, survey: i64, items: &[String]) -> Result<()> {
    for s in store::surveys::scales(db, survey, None).await? {
        if let Some(gone) = s.items.iter().find(|i| !items.contains(i)) {
            return Err(Error::Conflict(format!(
                "the new file has no item “{gone}”, which the scale “{}” uses: delete the scale first",
                s.name
            )));
        }
    }
    Ok(())
}

pub async fn list(db: &PgPool, access: &Access) -> Result<Vec<Survey>> {
    Ok(store::surveys::list(db, access.id(), None).await?)
}

/// A survey with its scales.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    #[serde(flatten)]
    pub survey: Survey,
    pub scales: Vec<ScaleRow>,
}

pub async fn get(db: &PgPool, access: &Access, id: i64) -> Result<Detail> {
    let survey = store::surveys::list(db, access.id(), Some(id))
        .await?
        .pop()
        .ok_or(Error::NotFound)?;
    let scales = store::surveys::scales(db, id, None).await?;
    Ok(Detail { survey, scales })
}

pub async fn delete(db: &PgPool, access: &Access, id: i64) -> Result<()> {
    access.require(
        Role::Coder,
        "viewers can read this project but not change it",
    )?;
    if !store::surveys::delete(db, access.id(), id).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// A new scale, as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewScale {
    pub name: String,
    pub items: Vec<String>,
    #[serde(default)]
    pub reverse: Vec<String>,
    pub min: f64,
    pub max: f64,
    pub score: Option<String>,
    pub min_items: Option<usize>,
}

/// A scale with its reliability, overall and per wave.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleReport {
    #[serde(flatten)]
    pub scale: ScaleRow,
    pub alpha: Option<Reliability>,
    pub alpha_by_wave: BTreeMap<String, Option<Reliability>>,
    /// Responses with a score.
    pub scored: usize,
}

fn check_scale(survey: &Survey, new: &NewScale) -> Result<ScaleRow> {
    let name = crate::domain::text::name("name", &new.name)?;
    if name.is_empty() {
        return Err(Error::invalid("name", "a scale needs a name"));
    }
    if new.items.len() < 2 {
        return Err(Error::invalid("items", "a scale has at least two items"));
    }
    let mut seen = BTreeSet::new();
    for i in &new.items {
        if !survey.items.contains(i) {
            return Err(Error::invalid(
                "items",
                format!("“{i}” is not an item column of this survey"),
            ));
        }
        if !seen.insert(i) {
            return Err(Error::invalid("items", format!("“{i}” is listed twice")));
        }
    }
    if let Some(r) = new.reverse.iter().find(|r| !new.items.contains(r)) {
        return Err(Error::invalid(
            "reverse",
            format!("“{r}” is reversed but not one of the scale's items"),
        ));
    }
    if !(new.min.is_finite() && new.max.is_finite() && new.min < new.max) {
        return Err(Error::invalid(
            "max",
            "the response range needs min below max",
        ));
    }
    let score = new.score.as_deref().unwrap_or("mean");
    if score != "mean" && score != "sum" {
        return Err(Error::invalid("score", "score is mean or sum"));
    }
    if let Some(n) = new.min_items
        && (n == 0 || n > new.items.len())
    {
        return Err(Error::invalid(
            "min_items",
            format!("min_items is between 1 and the {} items", new.items.len()),
        ));
    }
    Ok(ScaleRow {
        id: 0,
        survey_id: survey.id,
        name,
        items: new.items.clone(),
        reverse: new.reverse.clone(),
        min: new.min,
        max: new.max,
        score: score.to_owned(),
        min_items: new.min_items.map(|n| n as i32),
    })
}

/// Refuse a scale whose items hold answers outside its range, listing
/// each (row of the file, item, value), so a code such as 9 = "don't know"
/// is recoded rather than counted as an answer.
fn outside_range(survey: &Survey, scale: &ScaleRow, responses: &[Stored]) -> Result<()> {
    let at: Vec<(usize, &String)> = scale
        .items
        .iter()
        .filter_map(|i| survey.items.iter().position(|x| x == i).map(|p| (p, i)))
        .collect();
    let mut found = Vec::new();
    for r in responses {
        for (p, name) in &at {
            if let Some(Some(v)) = r.items.get(*p)
                && !(scale.min..=scale.max).contains(v)
            {
                found.push(format!("row {}, {name}: {v}", r.line));
            }
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    let n = found.len();
    found.truncate(20);
    Err(Error::invalid(
        "max",
        format!(
            "{n} answer{} outside the range {}–{} (recode them or widen the range): {}{}",
            if n == 1 { " is" } else { "s are" },
            scale.min,
            scale.max,
            found.join("; "),
            if n > 20 { "; …" } else { "" }
        ),
    ))
}

pub async fn create_scale(
    db: &PgPool,
    access: &Access,
    survey: i64,
    new: &NewScale,
) -> Result<ScaleReport> {
    access.require(
        Role::Coder,
        "viewers can read this project but not change it",
    )?;
    let detail = get(db, access, survey).await?;
    let row = check_scale(&detail.survey, new)?;
    outside_range(
        &detail.survey,
        &row,
        &store::surveys::responses(db, survey).await?,
    )?;
    let id =
        store::surveys::insert_scale(db, &row).await.map_err(
            |e| match store::violated_constraint(&e) {
                Some(store::surveys::SCALE_NAME_TAKEN) => Error::Conflict(format!(
                    "this survey already has a scale named “{}”",
                    row.name
                )),
                _ => e.into(),
            },
        )?;
    scale(db, access, survey, id).await
}

pub async fn delete_scale(db: &PgPool, access: &Access, survey: i64, id: i64) -> Result<()> {
    access.require(
        Role::Coder,
        "viewers can read this project but not change it",
    )?;
    get(db, access, survey).await?;
    if !store::surveys::delete_scale(db, survey, id).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// A scale's rule in the statistics' terms, and where its items are in a
/// response.
struct Keyed {
    rule: Scale,
    at: Vec<usize>,
}

fn scoring(survey: &Survey, s: &ScaleRow) -> Result<Keyed> {
    let at =
        s.items
            .iter()
            .map(|i| {
                survey.items.iter().position(|x| x == i).ok_or_else(|| {
                    Error::Conflict(format!("the survey has no item “{i}” any more"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
    let reversed = s
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| s.reverse.contains(i))
        .map(|(k, _)| k)
        .collect();
    Ok(Keyed {
        rule: Scale {
            min: s.min,
            max: s.max,
            reversed,
            scoring: if s.score == "sum" {
                Scoring::Sum
            } else {
                Scoring::Mean
            },
            min_items: s.min_items.map(|n| n as usize),
        },
        at,
    })
}

impl Keyed {
    fn answers(&self, r: &Stored) -> Vec<Option<f64>> {
        self.at
            .iter()
            .map(|&i| r.items.get(i).copied().flatten())
            .collect()
    }

    fn keyed(&self, r: &Stored) -> Vec<Option<f64>> {
        self.rule.keyed_items(&self.answers(r))
    }

    fn score(&self, r: &Stored) -> Option<f64> {
        self.rule.score(&self.answers(r))
    }
}

async fn load(
    db: &PgPool,
    access: &Access,
    survey: i64,
    scale: i64,
) -> Result<(Survey, ScaleRow, Vec<Stored>)> {
    let detail = get(db, access, survey).await?;
    let row = detail
        .scales
        .into_iter()
        .find(|s| s.id == scale)
        .ok_or(Error::NotFound)?;
    let responses = store::surveys::responses(db, survey).await?;
    Ok((detail.survey, row, responses))
}

pub async fn scale(db: &PgPool, access: &Access, survey: i64, id: i64) -> Result<ScaleReport> {
    let (survey, row, responses) = load(db, access, survey, id).await?;
    report(&survey, row, &responses)
}

/// A survey with every scale's report, reading its responses once.
pub async fn scale_reports(
    db: &PgPool,
    access: &Access,
    survey: i64,
) -> Result<(Survey, Vec<ScaleReport>)> {
    let detail = get(db, access, survey).await?;
    let responses = store::surveys::responses(db, survey).await?;
    let reports = detail
        .scales
        .into_iter()
        .map(|row| report(&detail.survey, row, &responses))
        .collect::<Result<_>>()?;
    Ok((detail.survey, reports))
}

/// A scale's reliability, overall and per wave, from the responses.
fn report(survey: &Survey, row: ScaleRow, responses: &[Stored]) -> Result<ScaleReport> {
    let s = scoring(survey, &row)?;
    let keyed: Vec<Vec<Option<f64>>> = responses.iter().map(|r| s.keyed(r)).collect();
    let mut by_wave: BTreeMap<String, Vec<Vec<Option<f64>>>> = BTreeMap::new();
    for (r, k) in responses.iter().zip(&keyed) {
        by_wave.entry(r.wave.clone()).or_default().push(k.clone());
    }
    Ok(ScaleReport {
        alpha: stats::cronbach_alpha(&keyed),
        alpha_by_wave: by_wave
            .into_iter()
            .map(|(w, rows)| (w, stats::cronbach_alpha(&rows)))
            .collect(),
        scored: responses.iter().filter(|r| s.score(r).is_some()).count(),
        scale: row,
    })
}

/// A comparison request as a query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CompareQuery {
    pub scale: Option<String>,
    /// `attr:NAME` (or `NAME`); `none` for the overall change alone.
    pub within: Option<String>,
    /// `EARLIER,LATER`; default the first and last wave.
    pub waves: Option<String>,
}

/// One wave of one group.
#[derive(Debug, Clone, Serialize)]
pub struct WaveStats {
    pub wave: String,
    #[serde(flatten)]
    pub stats: Descriptives,
    /// The scores themselves, for plots.
    #[serde(skip)]
    pub scores: Vec<f64>,
}

/// The change of one group (or everyone).
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub value: Option<String>,
    pub waves: [WaveStats; 2],
    pub welch: Option<WelchTest>,
    pub hedges_g: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub survey: Survey,
    pub scale: ScaleRow,
    pub waves: [String; 2],
    /// The attribute compared within, if any.
    pub within: Option<String>,
    pub overall: Change,
    pub groups: Vec<Change>,
    /// Wave × attribute, Type II sums of squares.
    pub interaction: Option<Effect>,
}

/// Waves in order: numerically when they all are numbers (2002 < 2004 <
/// 2010), else as text.
pub fn wave_order(waves: &mut [String]) {
    if waves.iter().all(|w| q::number(w).is_some()) {
        waves.sort_by(|a, b| {
            let (x, y) = (q::number(a).unwrap_or(0.0), q::number(b).unwrap_or(0.0));
            x.total_cmp(&y)
        });
    } else {
        waves.sort();
    }
}

fn chosen_waves(survey: &Survey, raw: Option<&str>) -> Result<[String; 2]> {
    let mut all: Vec<String> = survey.waves.keys().cloned().collect();
    wave_order(&mut all);
    let pick = match raw.map(str::trim).filter(|r| !r.is_empty()) {
        Some(raw) => raw
            .split(',')
            .map(|w| w.trim().to_owned())
            .collect::<Vec<_>>(),
        None => match (all.first(), all.last()) {
            (Some(a), Some(b)) if a != b => vec![a.clone(), b.clone()],
            _ => {
                return Err(Error::invalid(
                    "waves",
                    "this survey has one wave: there is nothing to compare",
                ));
            }
        },
    };
    match &pick[..] {
        [a, b] if a != b && all.contains(a) && all.contains(b) => Ok([a.clone(), b.clone()]),
        _ => Err(Error::invalid(
            "waves",
            format!(
                "waves is two of this survey's waves, earlier first: {}",
                all.join(", ")
            ),
        )),
    }
}

fn chosen_attribute(survey: &Survey, raw: Option<&str>) -> Result<Option<String>> {
    let attributes: Vec<&str> = survey
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Attribute)
        .map(|c| c.name.as_str())
        .collect();
    let raw = raw.map(str::trim).filter(|r| !r.is_empty());
    let wanted = match raw {
        Some("none") => return Ok(None),
        Some(r) => r.strip_prefix("attr:").unwrap_or(r).trim().to_owned(),
        None => match attributes
            .iter()
            .find(|a| a.eq_ignore_ascii_case("locality"))
            .or(attributes.first())
        {
            Some(a) => (*a).to_owned(),
            None => return Ok(None),
        },
    };
    attributes
        .iter()
        .find(|a| a.eq_ignore_ascii_case(&wanted))
        .map(|a| Some((*a).to_owned()))
        .ok_or_else(|| {
            Error::invalid(
                "within",
                format!(
                    "within is attr:NAME with NAME one of this survey's attributes ({})",
                    attributes.join(", ")
                ),
            )
        })
}

fn change(value: Option<String>, waves: &[String; 2], scores: [Vec<f64>; 2]) -> Change {
    let [earlier, later] = scores;
    Change {
        value,
        welch: stats::welch_t_test(&earlier, &later),
        hedges_g: stats::hedges_g(&earlier, &later),
        waves: [
            WaveStats {
                wave: waves[0].clone(),
                stats: stats::describe(&earlier),
                scores: earlier,
            },
            WaveStats {
                wave: waves[1].clone(),
                stats: stats::describe(&later),
                scores: later,
            },
        ],
    }
}

/// Compare a scale between two waves, overall and within each value of an
/// attribute.
pub async fn compare(
    db: &PgPool,
    access: &Access,
    survey: i64,
    query: &CompareQuery,
) -> Result<Comparison> {
    let scale_id = query
        .scale
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .ok_or_else(|| Error::invalid("scale", "scale is the id of one of this survey's scales"))?;
    let (survey, row, responses) = load(db, access, survey, scale_id).await?;
    let waves = chosen_waves(&survey, query.waves.as_deref())?;
    let within = chosen_attribute(&survey, query.within.as_deref())?;
    let s = scoring(&survey, &row)?;
    let mut overall: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut groups: BTreeMap<String, [Vec<f64>; 2]> = BTreeMap::new();
    let mut observations: Vec<(usize, String, f64)> = Vec::new();
    for r in &responses {
        let Some(w) = waves.iter().position(|w| *w == r.wave) else {
            continue;
        };
        let Some(score) = s.score(r) else {
            continue;
        };
        overall[w].push(score);
        if let Some(value) = within.as_ref().and_then(|a| r.attributes.get(a)) {
            groups.entry(value.clone()).or_default()[w].push(score);
            observations.push((w, value.clone(), score));
        }
    }
    let interaction = if within.is_some() {
        stats::two_way_anova(&observations).and_then(|a| a.interaction)
    } else {
        None
    };
    Ok(Comparison {
        overall: change(None, &waves, overall),
        groups: groups
            .into_iter()
            .map(|(v, scores)| change(Some(v), &waves, scores))
            .collect(),
        survey,
        scale: row,
        waves,
        within,
        interaction,
    })
}
