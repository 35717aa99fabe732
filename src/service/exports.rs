//! Exports: the theme table (XLSX, DOCX, tidy CSV, and the sheet its print
//! view shows) and the excerpts behind it (CSV, XLSX), each as a
//! [`Download`]. Large exports stream: excerpts go from a database cursor
//! row by row into a temporary file (the workbook's excerpt sheet uses
//! rust_xlsxwriter's constant-memory mode), so memory does not grow with
//! the project.

use super::analysis::Attributions;
use super::analysis::matrix::{self, MatrixQuery};
use super::analysis::theme_table::{self, ThemeQuery, ThemeTable};
use super::texts::Texts;
use super::{Access, Error, Result};
use crate::domain::ids::{CodeId, ProjectId};
use crate::formats::agreement_export;
use crate::formats::joint_export;
use crate::formats::theme_export::{
    self, Cell, CodebookRow, ColumnHead, ExcerptRow, QuoteOut, ThemeRow, ThemeSheet,
};
use crate::store;
use crate::store::codings::{Coding, Filter};
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::Deserialize;
use sqlx::PgPool;
use std::io::Write;
use std::ops::ControlFlow;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const CSV: &str = "text/csv; charset=utf-8";

/// A file to hand over: its name, type and contents.
pub struct Download {
    pub name: String,
    pub content_type: &'static str,
    pub body: Body,
}

/// A download's contents: in memory, or a finished temporary file.
pub enum Body {
    Bytes(Vec<u8>),
    File(std::fs::File),
}

impl Download {
    pub fn bytes(content_type: &'static str, name: String, bytes: Vec<u8>) -> Self {
        Download {
            name,
            content_type,
            body: Body::Bytes(bytes),
        }
    }

    pub fn text(content_type: &'static str, name: String, text: String) -> Self {
        Self::bytes(content_type, name, text.into_bytes())
    }

    fn file(content_type: &'static str, name: String, file: std::fs::File) -> Self {
        Download {
            name,
            content_type,
            body: Body::File(file),
        }
    }
}

/// Past `PARLEY_MAX_EXPORT_EXCERPTS` an export is refused before anything
/// is written (an Excel sheet holds 1,048,576 rows), with a way to narrow it.
fn too_many(total: i64, max: i64) -> Error {
    Error::invalid(
        "excerpts",
        format!(
            "this export would hold {total} excerpts; at most {max} fit in one file \
             (an Excel sheet holds 1,048,576 rows). Narrow it by code, coder, documents \
             or a participant attribute, and export in parts"
        ),
    )
}

/// `Partnership evaluation` → `Partnership-evaluation`: a file name safe in
/// a header on every system.
pub fn file_stem(project: &str) -> String {
    let stem: String = project
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let stem = stem
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if stem.is_empty() {
        "parley".into()
    } else {
        stem
    }
}

pub fn sheet_of(t: &ThemeTable) -> ThemeSheet {
    let m = &t.matrix;
    let columns: Vec<ColumnHead> = m
        .columns
        .iter()
        .map(|c| ColumnHead {
            label: c.label.clone(),
            n: c.participants,
        })
        .collect();
    let rows = m
        .rows
        .iter()
        .zip(&t.quotes)
        .map(|(r, quotes)| ThemeRow {
            depth: r.code.depth.max(0) as usize,
            name: r.code.name.clone(),
            path: r.code.path.clone(),
            definition: r.code.definition.clone(),
            cells: r
                .cells
                .iter()
                .zip(&m.columns)
                .map(|(c, col)| Cell {
                    references: c.references,
                    cases: c.cases,
                    documents: c.documents,
                    words: c.words,
                    n: col.participants,
                })
                .collect(),
            total: Cell {
                references: r.total.references,
                cases: r.total.cases,
                documents: r.total.documents,
                words: r.total.words,
                n: Some(m.participants),
            },
            quotes: quotes
                .iter()
                .map(|q| QuoteOut {
                    text: q.text.clone(),
                    tag: q.tag.clone(),
                })
                .collect(),
        })
        .collect();
    ThemeSheet {
        title: format!("{} — themes by {}", t.project, columns_phrase(t)),
        scope: t.scope.clone(),
        columns,
        total_n: m.participants,
        rows,
    }
}

fn columns_phrase(t: &ThemeTable) -> String {
    use crate::domain::matrix::Columns;
    match &t.request.columns {
        Columns::Group => "stakeholder group".into(),
        Columns::Attribute(a) => a.clone(),
        Columns::GroupAndAttribute(a) => format!("group and {a}"),
    }
}

/// The theme table as a Word document.
pub async fn theme_docx(
    db: &PgPool,
    attributions: &Attributions,
    access: &Access,
    query: &ThemeQuery,
) -> Result<Download> {
    let t = theme_table::build(db, attributions, access, query).await?;
    let sheet = sheet_of(&t);
    let bytes = tokio::task::spawn_blocking(move || theme_export::docx(&sheet))
        .await?
        .map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let name = theme_file_name(&t, "docx");
    Ok(Download::bytes(DOCX, name, bytes))
}

/// The theme table as tidy CSV (`code_path, column, measure, value, n`).
pub async fn theme_csv(
    db: &PgPool,
    attributions: &Attributions,
    access: &Access,
    query: &ThemeQuery,
) -> Result<Download> {
    let t = theme_table::build(db, attributions, access, query).await?;
    let csv = theme_export::tidy_csv(&sheet_of(&t));
    let name = theme_file_name(&t, "csv");
    Ok(Download::text(
        CSV,
        name,
        with_bom(query.bom.as_deref(), csv)?,
    ))
}

/// `Study-excerpts-2026-12-06.csv`: the project, what is inside, the day.
fn dated(access: &Access, what: &str, ext: &str) -> String {
    format!(
        "{}-{what}-{}.{ext}",
        file_stem(&access.project.project.name),
        today()
    )
}

/// Today's date, for file names.
fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// `Study-theme-table-by-group-and-locality-2026-12-06.xlsx`: what is
/// inside, and when it was made.
fn theme_file_name(t: &ThemeTable, ext: &str) -> String {
    format!(
        "{}-theme-table-by-{}-{}.{ext}",
        file_stem(&t.project),
        file_stem(&columns_phrase(t)),
        today()
    )
}

/// UTF-8 with a byte-order mark when asked (`bom=true`): Excel on Windows
/// then reads accents right.
fn with_bom(bom: Option<&str>, text: String) -> Result<String> {
    Ok(if matrix::flag("bom", bom)? {
        format!("\u{feff}{text}")
    } else {
        text
    })
}

/// What the workbook was made with, for its "Filters" sheet.
fn about(t: &ThemeTable) -> Vec<(String, String)> {
    let r = &t.request;
    vec![
        ("Project".into(), t.project.clone()),
        ("Exported".into(), today()),
        ("Columns".into(), columns_phrase(t)),
        (
            "Measures".into(),
            "cases (participants with a coded passage), cases % (of the column's N, in \
             percentage points), references (coded passages), documents, words — one sheet each"
                .into(),
        ),
        (
            "Roll-up".into(),
            if r.rollup {
                "sub-codes counted in their themes".into()
            } else {
                "each code by itself".into()
            },
        ),
        (
            "Filters".into(),
            if t.scope.is_empty() {
                "none: every coder, document and participant".into()
            } else {
                t.scope.clone()
            },
        ),
        (
            "Counting".into(),
            "N: the column's participants who speak in the documents counted. Interviewer \
             turns are never counted; a passage spoken by several participants counts for each. \
             Unassigned: speakers not mapped to a participant."
                .into(),
        ),
    ]
}

/// Optional narrowing of an excerpts export to one code (and its branch).
#[derive(Debug, Default, Deserialize)]
pub struct ExcerptsQuery {
    #[serde(flatten)]
    pub matrix: MatrixQuery,
    pub code_id: Option<CodeId>,
    #[serde(default)]
    pub include_subcodes: bool,
    /// `true`: CSV with a byte-order mark, for Excel on Windows.
    pub bom: Option<String>,
}

/// What every excerpt row needs besides the coding: the attribute columns
/// and each code's path.
async fn excerpt_columns(
    db: &PgPool,
    project: ProjectId,
) -> Result<(Vec<String>, Vec<(CodeId, String)>)> {
    let attributes = super::analysis::options::attribute_names(db, project).await?;
    let paths = store::codes::outline(db, project)
        .await?
        .into_iter()
        .map(|c| (c.id, c.path))
        .collect();
    Ok((attributes, paths))
}

fn excerpt_row(c: &Coding, paths: &[(CodeId, String)], attributes: &[String]) -> ExcerptRow {
    let join = |f: &dyn Fn(&store::codings::Attribution) -> Option<String>| {
        let mut v: Vec<String> = c.speakers.iter().filter_map(f).collect();
        v.dedup();
        v.join("; ")
    };
    ExcerptRow {
        code_path: paths
            .iter()
            .find(|(id, _)| *id == c.code_id)
            .map_or_else(|| c.code_name.clone(), |(_, p)| p.clone()),
        text: c.text.clone(),
        speaker: join(&|s| s.label.clone()),
        participant: join(&|s| s.participant.clone()),
        group: join(&|s| s.group.clone()),
        document: c.document_title.clone(),
        turn: c.turn.map(i64::from),
        time: c
            .time_ms
            .map(|ms| crate::domain::turns::clock(ms.max(0) as u64)),
        document_id: c.document_id.0,
        start: c.start.into(),
        end: c.end.into(),
        coder: c.coder_name.clone(),
        memo: c.memo.clone(),
        starred: c.starred,
        coding_id: c.id.0,
        attributes: attributes
            .iter()
            .map(|a| join(&|s| s.attributes.get(a).cloned()))
            .collect(),
    }
}

/// The filter an excerpts export (or the workbook's Excerpts sheet) uses.
async fn excerpt_filter(
    db: &PgPool,
    access: &Access,
    query: &MatrixQuery,
    code: Option<CodeId>,
    subcodes: bool,
) -> Result<Filter> {
    let project = access.id();
    let mut req = query.parse()?;
    matrix::check_scope(db, access, &mut req.scope).await?;
    let codes = match code {
        None => None,
        Some(id) if subcodes => {
            let tree = store::codes::outline(db, project).await?;
            Some(store::codes::branch(&tree, id))
        }
        Some(id) => Some(vec![id]),
    };
    Ok(Filter {
        codes,
        documents: req.scope.documents,
        coder: req.scope.coder,
        attributes: req.scope.attribute.into_iter().collect(),
        ..Filter::default()
    })
}

/// The excerpts a query selects, as CSV (at most `max`).
pub async fn excerpts_csv(
    db: &PgPool,
    texts: &Texts,
    access: &Access,
    query: &ExcerptsQuery,
    max: i64,
) -> Result<Download> {
    let project = access.id();
    let filter = excerpt_filter(
        db,
        access,
        &query.matrix,
        query.code_id,
        query.include_subcodes,
    )
    .await?;
    let (attributes, paths) = excerpt_columns(db, project).await?;
    let mut file = tempfile::tempfile().map_err(Error::internal)?;
    if matrix::flag("bom", query.bom.as_deref())? {
        file.write_all("\u{feff}".as_bytes())
            .map_err(Error::internal)?;
    }
    let mut csv = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let mut head: Vec<String> = theme_export::EXCERPT_COLUMNS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    head.extend(
        attributes
            .iter()
            .map(|a| crate::formats::codebook_csv::neutralise(a).into_owned()),
    );
    csv.write_record(&head).map_err(Error::internal)?;
    each_excerpt(db, texts, project, &filter, max, |c| {
        csv.write_record(excerpt_row(c, &paths, &attributes).record())
            .map_err(Error::internal)
    })
    .await?;
    let file = csv
        .into_inner()
        .map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?
        .into_inner()
        .map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?;
    let name = dated(access, "excerpts", "csv");
    Ok(Download::file(CSV, name, file))
}

/// The excerpts a query selects, as a workbook (at most `max`).
pub async fn excerpts_xlsx(
    db: &PgPool,
    texts: &Texts,
    access: &Access,
    query: &ExcerptsQuery,
    max: i64,
) -> Result<Download> {
    let project = access.id();
    let filter = excerpt_filter(
        db,
        access,
        &query.matrix,
        query.code_id,
        query.include_subcodes,
    )
    .await?;
    let mut workbook = Workbook::new();
    excerpts_sheet(db, texts, project, &mut workbook, &filter, max).await?;
    let name = dated(access, "excerpts", "xlsx");
    Ok(Download::file(XLSX, name, saved(workbook).await?))
}

/// Add the streamed "Excerpts" sheet to a workbook.
async fn excerpts_sheet(
    db: &PgPool,
    texts: &Texts,
    project: ProjectId,
    workbook: &mut Workbook,
    filter: &Filter,
    max: i64,
) -> Result<()> {
    let (attributes, paths) = excerpt_columns(db, project).await?;
    let ws = workbook
        .add_worksheet_with_constant_memory()
        .map_err(Error::internal)?;
    ws.set_name("Excerpts").map_err(Error::internal)?;
    theme_export::excerpts_header(ws, &attributes).map_err(Error::internal)?;
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let mut row = 0u32;
    each_excerpt(db, texts, project, filter, max, |c| {
        row += 1;
        excerpt_row(c, &paths, &attributes)
            .write(ws, row, &wrap)
            .map_err(Error::internal)
    })
    .await?;
    let columns = theme_export::EXCERPT_COLUMNS.len() + attributes.len();
    ws.autofilter(0, 0, row, columns as u16 - 1)
        .map_err(Error::internal)?;
    Ok(())
}

/// Hand each excerpt a filter selects to `write`, streamed from the
/// database; refused before the first once there would be more than `max`.
///
/// Each excerpt's text and turn are cut from the documents' texts kept in
/// `texts` (those not kept read at once, in one round trip), unless they
/// are too many to hold: then the query brings each document's text along.
async fn each_excerpt(
    db: &PgPool,
    texts: &Texts,
    project: ProjectId,
    filter: &Filter,
    max: i64,
    mut write: impl FnMut(&Coding) -> Result<()>,
) -> Result<()> {
    let mut failed = None;
    let (speakers, at_hand) = tokio::try_join!(
        store::codings::speaker_map(db, project, None),
        texts.all(db, project, filter.documents.as_deref())
    )?;
    store::codings::for_each(
        db,
        project,
        filter,
        store::codings::AtHand {
            speakers: Some(&speakers),
            texts: at_hand.as_ref(),
        },
        i64::MAX,
        0,
        |c, total| {
            if total > max {
                failed = Some(too_many(total, max));
                return ControlFlow::Break(());
            }
            match write(&c) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            }
        },
    )
    .await?;
    failed.map_or(Ok(()), Err)
}

/// Save a workbook to a temporary file off the async threads, at zip's
/// fastest level: compressing took 40% of a 4,000-excerpt workbook's time
/// at the default level, for a file a little smaller.
async fn saved(mut workbook: Workbook) -> Result<std::fs::File> {
    tokio::task::spawn_blocking(move || -> Result<std::fs::File> {
        workbook.set_zip_compression_level(1);
        let mut file = tempfile::tempfile().map_err(Error::internal)?;
        workbook
            .save_to_writer(&mut file)
            .map_err(Error::internal)?;
        file.flush().map_err(Error::internal)?;
        Ok(file)
    })
    .await?
}

/// The theme table workbook: theme sheets, the excerpts behind them (at
/// most `max`), the codebook and the participants.
pub async fn theme_xlsx(
    db: &PgPool,
    texts: &Texts,
    attributions: &Attributions,
    access: &Access,
    query: &ThemeQuery,
    max: i64,
) -> Result<Download> {
    let project = access.id();
    let t = theme_table::build(db, attributions, access, query).await?;
    let mut workbook = Workbook::new();
    theme_export::xlsx_about(&mut workbook, &about(&t)).map_err(Error::internal)?;
    theme_export::xlsx_theme_sheets(&mut workbook, &sheet_of(&t)).map_err(Error::internal)?;
    let filter = excerpt_filter(db, access, &query.matrix, None, false).await?;
    excerpts_sheet(db, texts, project, &mut workbook, &filter, max).await?;
    codebook_sheet(db, access, &mut workbook).await?;
    participants_sheet(db, project, &mut workbook).await?;
    let name = theme_file_name(&t, "xlsx");
    Ok(Download::file(XLSX, name, saved(workbook).await?))
}

async fn codebook_sheet(db: &PgPool, access: &Access, workbook: &mut Workbook) -> Result<()> {
    let tree = store::codes::tree(db, access.id(), access.sees_only()).await?;
    theme_export::xlsx_codebook(
        workbook,
        tree.iter().map(|c| CodebookRow {
            path: &c.path,
            definition: &c.definition,
            inclusion: &c.inclusion,
            exclusion: &c.exclusion,
            example: &c.example,
            colour: c.colour.as_str(),
            codings: c.codings,
        }),
    )
    .map_err(Error::internal)
}

async fn participants_sheet(
    db: &PgPool,
    project: ProjectId,
    workbook: &mut Workbook,
) -> Result<()> {
    let attributes = super::analysis::options::attribute_names(db, project).await?;
    let people: Vec<(String, String, i64, Vec<String>)> = store::participants::list(db, project)
        .await?
        .into_iter()
        .map(|p| {
            let values = attributes
                .iter()
                .map(|a| p.attributes.get(a).cloned().unwrap_or_default())
                .collect();
            (p.label, p.group.unwrap_or_default(), p.documents, values)
        })
        .collect();
    theme_export::xlsx_participants(workbook, &attributes, &people).map_err(Error::internal)
}

/// The agreement report as the files' table.
fn agreement_table(access: &Access, r: &super::agreement::Report) -> agreement_export::Table {
    use crate::domain::agreement::Figures;
    let names: Vec<String> = r.coders.iter().map(|c| c.name.clone()).collect();
    let row = |label: String, f: &Figures| {
        let two = (f.pairs.len() == 1).then(|| &f.pairs[0]);
        agreement_export::Row {
            label,
            units: f.units,
            table: two.map(|p| {
                [
                    p.table.both,
                    p.table.only_a,
                    p.table.only_b,
                    p.table.neither,
                ]
            }),
            percent: f.percent,
            kappa: two.and_then(|p| p.kappa.value),
            kappa_ci: two.and_then(|p| p.kappa.ci),
            alpha: f.alpha.value,
            alpha_ci: f.alpha.ci,
            pair_kappas: f.pairs.iter().map(|p| p.kappa.value).collect(),
        }
    };
    let mut rows: Vec<agreement_export::Row> = r
        .codes
        .iter()
        .map(|c| row(c.code.path.clone(), &c.figures))
        .collect();
    rows.push(row("All codes (pooled)".into(), &r.pooled));
    agreement_export::Table {
        project: access.project.project.name.clone(),
        unit: r.unit.as_str().into(),
        pairs: crate::domain::agreement::pairs(names.len())
            .map(|(a, b)| format!("{} – {}", names[a], names[b]))
            .collect(),
        coders: names,
        documents: r.documents.len(),
        rollup: r.rollup,
        bootstrap: r.bootstrap,
        seed: r.seed,
        rows,
    }
}

fn agreement_name(access: &Access, r: &super::agreement::Report, ext: &str) -> String {
    format!(
        "{}-agreement-{}-{}-coders.{ext}",
        file_stem(&access.project.project.name),
        r.unit.plural(),
        r.coders.len()
    )
}

/// The agreement table as tidy CSV.
pub async fn agreement_csv(
    db: &PgPool,
    access: &Access,
    req: &super::agreement::Request,
) -> Result<Download> {
    let report = super::agreement::report(db, access, req).await?;
    let text = agreement_export::csv(&agreement_table(access, &report)).map_err(Error::internal)?;
    Ok(Download::text(
        CSV,
        agreement_name(access, &report, "csv"),
        text,
    ))
}

/// The agreement table as a workbook.
pub async fn agreement_xlsx(
    db: &PgPool,
    access: &Access,
    req: &super::agreement::Request,
) -> Result<Download> {
    let report = super::agreement::report(db, access, req).await?;
    let workbook =
        agreement_export::xlsx(&agreement_table(access, &report)).map_err(Error::internal)?;
    Ok(Download::file(
        XLSX,
        agreement_name(access, &report, "xlsx"),
        saved(workbook).await?,
    ))
}

/// The joint display as the files' table.
fn joint_table(j: &super::analysis::joint_display::JointDisplay) -> joint_export::Joint {
    use super::analysis::joint_display::JointRow;
    let line = |r: &JointRow| {
        let c = r.change.as_ref();
        joint_export::Line {
            value: r.value.clone(),
            n: [0, 1].map(|i| c.map(|c| c.waves[i].stats.n)),
            mean: [0, 1].map(|i| c.and_then(|c| c.waves[i].stats.mean)),
            change: c.and_then(|c| c.welch.map(|w| w.difference)),
            change_ci: c.and_then(|c| c.welch.map(|w| (w.ci95.low, w.ci95.high))),
            p: c.and_then(|c| c.welch.map(|w| w.p)),
            g: c.and_then(|c| c.hedges_g),
            themes: r
                .themes
                .iter()
                .map(|t| (t.cases, t.participants, t.cases_pct))
                .collect(),
            quotes: r.themes.iter().map(|t| t.quote.clone()).collect(),
        }
    };
    let cmp = &j.comparison;
    let mut lines: Vec<joint_export::Line> = j.rows.iter().map(line).collect();
    lines.push(line(&j.overall));
    joint_export::Joint {
        title: format!(
            "{} ({} to {}) and themes by {}",
            cmp.scale.name, cmp.waves[0], cmp.waves[1], j.attribute
        ),
        scale: cmp.scale.name.clone(),
        attribute: j.attribute.clone(),
        waves: cmp.waves.clone(),
        themes: j.codes.iter().map(|c| c.path.clone()).collect(),
        note: format!(
            "{project}. Survey “{survey}”: mean {scale} score per wave (n), the change with its 95% \
             interval, Welch's t-test p and Hedges' g, by {attr} of the respondent. Themes: \
             participants with {attr} = the row's value who speak a coded passage of the theme or \
             its sub-codes (cases), of those who speak in the documents (N). Quotes: starred first.",
            project = j.project,
            survey = cmp.survey.name,
            scale = cmp.scale.name,
            attr = j.attribute
        ),
        lines,
    }
}

async fn joint(
    db: &PgPool,
    attributions: &Attributions,
    access: &Access,
    q: &super::analysis::joint_display::JointQuery,
) -> Result<(joint_export::Joint, String)> {
    let j = super::analysis::joint_display::build(db, attributions, access, q).await?;
    let stem = format!(
        "{}-joint-display-{}-by-{}",
        file_stem(&j.project),
        file_stem(&j.comparison.scale.name),
        file_stem(&j.attribute)
    );
    Ok((joint_table(&j), stem))
}

pub async fn joint_csv(
    db: &PgPool,
    attributions: &Attributions,
    access: &Access,
    q: &super::analysis::joint_display::JointQuery,
) -> Result<Download> {
    let (t, stem) = joint(db, attributions, access, q).await?;
    let text = joint_export::csv(&t).map_err(Error::internal)?;
    Ok(Download::text(CSV, format!("{stem}.csv"), text))
}

pub async fn joint_xlsx(
    db: &PgPool,
    attributions: &Attributions,
    access: &Access,
    q: &super::analysis::joint_display::JointQuery,
) -> Result<Download> {
    let (t, stem) = joint(db, attributions, access, q).await?;
    let book = joint_export::xlsx(&t).map_err(Error::internal)?;
    Ok(Download::file(
        XLSX,
        format!("{stem}.xlsx"),
        saved(book).await?,
    ))
}

pub async fn joint_docx(
    db: &PgPool,
    attributions: &Attributions,
    access: &Access,
    q: &super::analysis::joint_display::JointQuery,
) -> Result<Download> {
    let (t, stem) = joint(db, attributions, access, q).await?;
    let bytes = tokio::task::spawn_blocking(move || joint_export::docx(&t))
        .await?
        .map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    Ok(Download::bytes(DOCX, format!("{stem}.docx"), bytes))
}

/// A code report request: the code (and its sub-codes), how to group the
/// excerpts, and the usual filters.
#[derive(Debug, Default, Deserialize)]
pub struct CodeReportQuery {
    pub code_id: Option<CodeId>,
    #[serde(default)]
    pub include_subcodes: Option<String>,
    /// `group` (default) or `attr:NAME`.
    pub by: Option<String>,
    pub coder: Option<String>,
    pub documents: Option<String>,
}

/// The most excerpts one report holds.
pub const CODE_REPORT_MAX: i64 = 5_000;

/// Who said it, as the report prints it: "C07 (Carer, North)".
fn speaker_line(c: &Coding, attribute: Option<&str>) -> String {
    let people: Vec<String> = c
        .speakers
        .iter()
        .map(|s| match &s.participant {
            Some(p) => {
                let mut bits: Vec<String> = s.group.iter().cloned().collect();
                if let Some(v) = attribute.and_then(|a| s.attributes.get(a)) {
                    bits.push(v.clone());
                }
                if bits.is_empty() {
                    p.clone()
                } else {
                    format!("{p} ({})", bits.join(", "))
                }
            }
            None => format!(
                "{} (not mapped)",
                s.label.as_deref().unwrap_or("no speaker")
            ),
        })
        .collect();
    if people.is_empty() {
        "no participant".into()
    } else {
        people.join("; ")
    }
}

/// The headings a coding is listed under: each speaker's group (or value of
/// the attribute).
fn headings(c: &Coding, attribute: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = c
        .speakers
        .iter()
        .map(|s| match attribute {
            Some(a) => s
                .attributes
                .get(a)
                .cloned()
                .unwrap_or_else(|| format!("No {a}")),
            None if s.participant.is_none() => "Unassigned".into(),
            None => s.group.clone().unwrap_or_else(|| "No group".into()),
        })
        .collect();
    out.sort();
    out.dedup();
    if out.is_empty() {
        out.push("Unassigned".into());
    }
    out
}

/// One code's (or branch's) excerpts, grouped for reading.
pub async fn code_report(
    db: &PgPool,
    texts: &Texts,
    access: &Access,
    q: &CodeReportQuery,
) -> Result<crate::formats::code_report::Report> {
    use crate::formats::code_report::{Excerpt, Report, Section};
    let code_id = q
        .code_id
        .ok_or_else(|| Error::invalid("code_id", "choose the code to report on"))?;
    let subcodes = matrix::flag("include_subcodes", q.include_subcodes.as_deref())?;
    let attribute = match q.by.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None | Some("group") => None,
        Some(b) => Some(
            b.strip_prefix("attr:")
                .ok_or_else(|| Error::invalid("by", "by is group or attr:NAME"))?
                .to_owned(),
        ),
    };
    let outline = store::codes::outline(db, access.id()).await?;
    let code = outline
        .iter()
        .find(|c| c.id == code_id)
        .cloned()
        .ok_or(Error::NotFound)?;
    let matrix_query = MatrixQuery {
        coder: q.coder.clone(),
        documents: q.documents.clone(),
        ..MatrixQuery::default()
    };
    let filter = excerpt_filter(db, access, &matrix_query, Some(code_id), subcodes).await?;
    let mut sections: Vec<Section> = Vec::new();
    let paths: std::collections::HashMap<CodeId, String> =
        outline.iter().map(|c| (c.id, c.name.clone())).collect();
    let attr = attribute.as_deref();
    let mut n = 0;
    each_excerpt(db, texts, access.id(), &filter, CODE_REPORT_MAX, |c| {
        n += 1;
        let excerpt = Excerpt {
            text: theme_table::quote_text(c),
            speaker: speaker_line(c, attr),
            document: c.document_title.clone(),
            location: super::coding::location(c),
            code: paths.get(&c.code_id).cloned().unwrap_or_default(),
            coder: c.coder_name.clone(),
            starred: c.starred,
        };
        for h in headings(c, attr) {
            match sections.iter_mut().find(|s| s.heading == h) {
                Some(s) => s.excerpts.push(excerpt.clone()),
                None => sections.push(Section {
                    heading: h,
                    excerpts: vec![excerpt.clone()],
                }),
            }
        }
        Ok(())
    })
    .await?;
    sections.sort_by_key(|s| s.heading.to_lowercase());
    let definition = [
        ("Definition", &code.definition),
        ("Include", &code.inclusion),
        ("Exclude", &code.exclusion),
        ("Example", &code.example),
    ]
    .into_iter()
    .filter(|(_, t)| !t.trim().is_empty())
    .map(|(l, t)| (l.to_owned(), t.clone()))
    .collect();
    let mut note = format!(
        "{} excerpts of {}{}, by {}.",
        n,
        code.path,
        if subcodes { " and its sub-codes" } else { "" },
        attr.unwrap_or("stakeholder group")
    );
    let scope = matrix::scope_notes(
        db,
        access,
        &crate::store::matrix::Scope {
            coder: filter.coder,
            documents: filter.documents.clone(),
            attribute: None,
        },
    )
    .await?;
    if !scope.is_empty() {
        note.push_str(&format!(" Counted: {}.", scope.join("; ")));
    }
    Ok(Report {
        title: format!("{}: {}", access.project.project.name, code.path),
        definition,
        note,
        sections,
    })
}

pub async fn code_report_docx(
    db: &PgPool,
    texts: &Texts,
    access: &Access,
    q: &CodeReportQuery,
) -> Result<Download> {
    let report = code_report(db, texts, access, q).await?;
    let name = format!(
        "{}-code-report-{}-{}.docx",
        file_stem(&access.project.project.name),
        file_stem(&report.title),
        today()
    );
    let bytes = tokio::task::spawn_blocking(move || crate::formats::code_report::docx(&report))
        .await?
        .map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    Ok(Download::bytes(DOCX, name, bytes))
}

/// The co-occurrence table as tidy CSV: one pair of codes a row.
pub async fn cooccurrence_csv(
    db: &PgPool,
    access: &Access,
    query: &MatrixQuery,
) -> Result<Download> {
    let mut req = query.parse()?;
    let co = matrix::cooccurrence(db, access, &mut req).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let neutral = |s: &str| crate::formats::codebook_csv::neutralise(s).into_owned();
    w.write_record(["code_a", "code_b", "overlapping_codings", "shared_cases"])
        .map_err(Error::internal)?;
    for (i, a) in co.codes.iter().enumerate() {
        for (j, b) in co.codes.iter().enumerate().skip(i) {
            let (overlaps, cases) = co.cells[i][j];
            w.write_record([
                neutral(&a.path),
                neutral(&b.path),
                overlaps.to_string(),
                cases.to_string(),
            ])
            .map_err(Error::internal)?;
        }
    }
    let bytes = super::csv_bytes(w)?;
    let name = dated(access, "cooccurrence", "csv");
    Ok(Download::bytes(CSV, name, bytes))
}

/// The co-occurrence table as a workbook: overlapping codings and shared
/// cases, code × code.
pub async fn cooccurrence_xlsx(
    db: &PgPool,
    access: &Access,
    query: &MatrixQuery,
) -> Result<Download> {
    let mut req = query.parse()?;
    let co = matrix::cooccurrence(db, access, &mut req).await?;
    let notes = matrix::scope_notes(db, access, &req.scope).await?;
    let mut book = Workbook::new();
    let about = vec![
        ("Project".to_owned(), access.project.project.name.clone()),
        ("Exported".to_owned(), today()),
        (
            "Overlapping codings".to_owned(),
            "pairs of codings of the two codes, in one document, that share at least one character (diagonal: the code's own codings)".to_owned(),
        ),
        (
            "Shared cases".to_owned(),
            "participants in whom both codes occur (diagonal: the code's cases)".to_owned(),
        ),
        (
            "Filters".to_owned(),
            if notes.is_empty() {
                "none".to_owned()
            } else {
                notes.join("; ")
            },
        ),
    ];
    theme_export::xlsx_about(&mut book, &about).map_err(Error::internal)?;
    for (sheet, pick) in [("Overlapping codings", 0usize), ("Shared cases", 1)] {
        let ws = book.add_worksheet();
        ws.set_name(sheet).map_err(Error::internal)?;
        let mut names = vec!["Code".to_owned()];
        names.extend(co.codes.iter().map(|c| c.path.clone()));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut widths = vec![36.0];
        widths.extend(std::iter::repeat_n(12.0, co.codes.len()));
        theme_export::header(ws, &refs, &widths).map_err(Error::internal)?;
        for (i, a) in co.codes.iter().enumerate() {
            let row = i as u32 + 1;
            theme_export::put_text(ws, row, 0, &a.path, None).map_err(Error::internal)?;
            for (j, cell) in co.cells[i].iter().enumerate() {
                let v = if pick == 0 { cell.0 } else { cell.1 };
                ws.write_number(row, j as u16 + 1, v as f64)
                    .map_err(Error::internal)?;
            }
        }
        ws.autofilter(0, 0, co.codes.len() as u32, co.codes.len() as u16)
            .map_err(Error::internal)?;
    }
    let name = dated(access, "cooccurrence", "xlsx");
    Ok(Download::file(XLSX, name, saved(book).await?))
}

/// Every memo the member may see, as a Word document.
pub async fn memos_docx(db: &PgPool, access: &Access) -> Result<Download> {
    use crate::formats::code_report::MemoOut;
    use crate::store::memos::MemoOn;
    let memos = store::memos::list(db, access.id(), access.sees_only()).await?;
    let out: Vec<MemoOut> = memos
        .into_iter()
        .map(|m| MemoOut {
            kind: match m.on {
                MemoOn::Project => "Project",
                MemoOn::Document => "Documents",
                MemoOn::Code => "Codes",
                MemoOn::Coding => "Codings",
            }
            .into(),
            about: m.about,
            text: m.memo,
            byline: [m.author, m.written_at.map(|t| t.date().to_string())]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            excerpt: m.excerpt,
        })
        .collect();
    let title = format!("{}: memos", access.project.project.name);
    let bytes =
        tokio::task::spawn_blocking(move || crate::formats::code_report::memos_docx(&title, &out))
            .await?
            .map_err(|e| Error::internal(anyhow::anyhow!(e)))?;
    let name = dated(access, "memos", "docx");
    Ok(Download::bytes(DOCX, name, bytes))
}
