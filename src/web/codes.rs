//! The codebook pages: the codebook (printable), a code with its excerpts,
//! the trash, and codebook import (CSV or `.qdc`).

use super::chrome::Chrome;
use super::filters::{self, Choice};
use super::pages::{back_with, done, encode_query};
use crate::app::AppState;
use crate::domain::ids::{CodeId, CodingId, DocumentId, ProjectId};
use crate::domain::project::Role;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Form, Path, ProjectAccess, Query, need};
use crate::http::heavy::Heavy;
use crate::http::upload::file_part;
use crate::service::analysis::options::filter_options;
use crate::service::codebook::{self, CodeInput};
use crate::service::coding::{self, ListQuery};
use crate::service::{self, plural};
use crate::store;
use crate::store::codes::{Code, CodeChanges, Trashed};
use crate::store::codings::Coding;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/codes/{code_id}/report",
            get(report_page),
        )
        .route(
            "/projects/{project_id}/codes",
            get(codebook).post(create_form),
        )
        .route("/projects/{project_id}/codes/import", post(import_form))
        .route("/projects/{project_id}/codes/trash", get(trash_page))
        .route(
            "/projects/{project_id}/codes/trash/empty",
            post(empty_trash_form),
        )
        .route(
            "/projects/{project_id}/codes/{code_id}",
            get(code_page).post(update_form),
        )
        .route(
            "/projects/{project_id}/codes/{code_id}/move",
            post(move_form),
        )
        .route(
            "/projects/{project_id}/codes/{code_id}/merge",
            post(merge_form),
        )
        .route(
            "/projects/{project_id}/codes/{code_id}/delete",
            get(confirm_delete).post(delete_form),
        )
        .route(
            "/projects/{project_id}/codes/{code_id}/restore",
            post(restore_form),
        )
        .route(
            "/projects/{project_id}/codings/{coding_id}/star",
            post(star_form),
        )
}

fn codebook_url(project: ProjectId) -> String {
    format!("/projects/{project}/codes")
}

fn code_url(project: ProjectId, code: CodeId) -> String {
    format!("/projects/{project}/codes/{code}")
}

/// A code as the codebook page shows it, with how it may move.
pub struct CodeRow {
    pub code: Code,
    pub first: bool,
    pub last: bool,
    /// Codings of the code and everything below it.
    pub branch_codings: i64,
}

/// The codebook's rows in tree order, in one pass each way: branch totals
/// gathered from the bottom up, first and last among siblings.
fn rows(tree: Vec<Code>) -> Vec<CodeRow> {
    let at: std::collections::HashMap<CodeId, usize> =
        tree.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let parent_of: Vec<Option<usize>> = tree
        .iter()
        .map(|c| c.parent_id.and_then(|p| at.get(&p).copied()))
        .collect();
    // Tree order puts every code after its parent.
    let mut branch: Vec<i64> = tree.iter().map(|c| c.codings).collect();
    for i in (0..tree.len()).rev() {
        if let Some(p) = parent_of[i] {
            branch[p] += branch[i];
        }
    }
    let mut first_seen = std::collections::HashSet::new();
    let mut last_of = std::collections::HashMap::new();
    for (i, c) in tree.iter().enumerate() {
        last_of.insert(c.parent_id, i);
    }
    tree.into_iter()
        .enumerate()
        .map(|(i, c)| CodeRow {
            first: first_seen.insert(c.parent_id),
            last: last_of.get(&c.parent_id) == Some(&i),
            branch_codings: branch[i],
            code: c,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "codes/list.html")]
struct CodebookPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    rows: Vec<CodeRow>,
    trashed: usize,
    can_edit: bool,
}

async fn codebook(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
) -> Result<CodebookPage> {
    let tree = store::codes::tree(&state.db, access.id(), access.sees_only()).await?;
    let trashed = store::codes::trash_list(&state.db, access.id())
        .await?
        .len();
    Ok(CodebookPage {
        chrome,
        rows: rows(tree),
        trashed,
        can_edit: access.role() != Role::Viewer,
        project: access.project.clone(),
        tab: "codes",
    })
}

/// A code form as posted by a page: every field a string.
#[derive(Debug, Deserialize)]
struct CodeForm {
    name: Option<String>,
    parent_id: Option<String>,
    colour: Option<String>,
    shortcut: Option<String>,
    definition: Option<String>,
    inclusion: Option<String>,
    exclusion: Option<String>,
    example: Option<String>,
    memo: Option<String>,
    version: Option<i32>,
}

fn parse_parent(raw: Option<&str>) -> service::Result<Option<Option<CodeId>>> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(id) => id
            .parse()
            .map(|id| Some(Some(id)))
            .map_err(|_| service::Error::BadRequest("parent_id must be a code id".into())),
    }
}

impl CodeForm {
    fn into_input(self) -> service::Result<CodeInput> {
        Ok(CodeInput {
            parent_id: parse_parent(self.parent_id.as_deref())?,
            name: self.name,
            position: None,
            colour: self.colour,
            definition: self.definition,
            inclusion: self.inclusion,
            exclusion: self.exclusion,
            example: self.example,
            shortcut: self.shortcut.map(Some),
            memo: self.memo,
            version: self.version,
        })
    }
}

async fn create_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Result<Redirect> {
    let back = codebook_url(access.id());
    let created = match form.into_input() {
        Ok(input) => codebook::create(&state.db, access.id(), access.user.id, input).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(c) => {
            done(
                &session,
                &format!("{back}#code-{}", c.id),
                format!("Code “{}” added.", c.path),
            )
            .await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

async fn update_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, CodeId)>,
    Form(form): Form<CodeForm>,
) -> Result<Redirect> {
    let back = code_url(access.id(), id);
    let what = if form.memo.is_some() && form.name.is_none() {
        "Memo saved."
    } else {
        "Code saved."
    };
    let updated = match form.into_input() {
        Ok(input) => codebook::update(&state.db, access.id(), id, access.user.id, input).await,
        Err(e) => Err(e),
    };
    match updated {
        Ok(_) => done(&session, &back, what).await,
        Err(e) => back_with(&session, &back, e).await,
    }
}

#[derive(Deserialize)]
struct MoveForm {
    /// `up` or `down` among siblings; or a new parent (and position).
    direction: Option<String>,
    parent_id: Option<String>,
    position: Option<String>,
}

async fn move_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, CodeId)>,
    Form(form): Form<MoveForm>,
) -> Result<Redirect> {
    let tree = store::codes::outline(&state.db, access.id()).await?;
    let code = tree.iter().find(|c| c.id == id).ok_or(AppError::NotFound)?;
    let siblings: Vec<&Code> = tree
        .iter()
        .filter(|c| c.parent_id == code.parent_id)
        .collect();
    let index = siblings.iter().position(|c| c.id == id).unwrap_or(0) as i32 + 1;
    let mut changes = CodeChanges::default();
    let back = match form.direction.as_deref() {
        Some("up") => {
            changes.position = Some((index - 1).max(1));
            format!("{}#code-{id}", codebook_url(access.id()))
        }
        Some("down") => {
            changes.position = Some(index + 1);
            format!("{}#code-{id}", codebook_url(access.id()))
        }
        _ => {
            changes.parent = parse_parent(form.parent_id.as_deref())?;
            changes.position = form
                .position
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| p.parse::<i32>())
                .transpose()
                .map_err(|_| AppError::BadRequest("position must be a number".into()))?;
            code_url(access.id(), id)
        }
    };
    match store::codes::update(&state.db, access.id(), id, access.user.id, &changes).await {
        Ok(_) => done(&session, &back, "Code moved.").await,
        Err(e) => back_with(&session, &back, e).await,
    }
}

#[derive(Deserialize)]
struct MergeForm {
    into: String,
}

async fn merge_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, CodeId)>,
    Form(form): Form<MergeForm>,
) -> Result<Redirect> {
    let back = code_url(access.id(), id);
    let Ok(into) = form.into.trim().parse::<CodeId>() else {
        return back_with(
            &session,
            &back,
            AppError::BadRequest("choose the code to merge into".into()),
        )
        .await;
    };
    let from = store::codes::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    match store::codes::merge(&state.db, access.id(), id, into, access.user.id).await {
        Ok(()) => {
            let target = store::codes::get(&state.db, access.id(), into)
                .await?
                .ok_or(AppError::NotFound)?;
            done(
                &session,
                &code_url(access.id(), into),
                format!(
                    "“{}” merged into “{}”: its {} are now here.",
                    from.path,
                    target.path,
                    plural(from.codings, "coding", "codings")
                ),
            )
            .await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "codes/delete.html")]
struct DeletePage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    code: Code,
    footprint: store::codes::Footprint,
}

async fn confirm_delete(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    chrome: Chrome,
    Path((_, id)): Path<(ProjectId, CodeId)>,
) -> Result<DeletePage> {
    let code = store::codes::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let footprint = store::codes::footprint(&state.db, access.id(), id).await?;
    Ok(DeletePage {
        chrome,
        code,
        footprint,
        project: access.project.clone(),
        tab: "codes",
    })
}

async fn delete_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, CodeId)>,
) -> Result<Redirect> {
    let code = store::codes::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let gone = store::codes::trash(&state.db, access.id(), id, access.user.id).await?;
    done(
        &session,
        &codebook_url(access.id()),
        format!(
            "“{}” moved to the trash with {}. You can restore it from the trash.",
            code.path,
            plural(gone.codings, "coding", "codings")
        ),
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "codes/trash.html")]
struct TrashPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    items: Vec<Trashed>,
    can_edit: bool,
    can_empty: bool,
}

async fn trash_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
) -> Result<TrashPage> {
    Ok(TrashPage {
        chrome,
        items: store::codes::trash_list(&state.db, access.id()).await?,
        can_edit: access.role() != Role::Viewer,
        can_empty: access.role() == Role::Owner,
        project: access.project.clone(),
        tab: "codes",
    })
}

async fn restore_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, CodeId)>,
) -> Result<Redirect> {
    let back = format!("{}/trash", codebook_url(access.id()));
    match store::codes::restore(&state.db, access.id(), id, access.user.id).await {
        Ok(r) => {
            let mut message = format!(
                "“{}” restored with {}.",
                r.name,
                plural(r.codings, "coding", "codings")
            );
            if r.moved_to_top {
                message.push_str(" Its parent is gone, so it is at the top level now.");
            }
            if r.shortcuts_dropped > 0 {
                message.push_str(" Shortcut keys that other codes use now were removed.");
            }
            done(&session, &code_url(access.id(), id), message).await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

async fn empty_trash_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    session: Session,
) -> Result<Redirect> {
    let gone = store::codes::empty_trash(&state.db, access.id()).await?;
    done(
        &session,
        &codebook_url(access.id()),
        format!(
            "Trash emptied: {} and {} deleted for good.",
            plural(gone.codes, "code", "codes"),
            plural(gone.codings, "coding", "codings")
        ),
    )
    .await
}

async fn import_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    _heavy: Heavy,
    session: Session,
    multipart: Multipart,
) -> Result<Redirect> {
    let back = codebook_url(access.id());
    let imported = match file_part(multipart, "a codebook file (CSV or .qdc)").await {
        Ok(bytes) => codebook::import(&state.db, &access, &bytes)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match imported {
        Ok(o) => {
            done(
                &session,
                &back,
                format!(
                    "Codebook imported: {} added, {} updated.",
                    plural(o.created, "code", "codes"),
                    o.updated
                ),
            )
            .await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

/// The excerpts filter as a page's query string (every field a string, so
/// an empty select means "any").
#[derive(Debug, Default, Deserialize)]
struct ExcerptQuery {
    group: Option<String>,
    attribute: Option<String>,
    document_id: Option<String>,
    documents: Option<String>,
    coder: Option<String>,
    subcodes: Option<String>,
    starred: Option<String>,
    overlaps: Option<String>,
    page: Option<i64>,
}

impl ExcerptQuery {
    fn to_list_query(&self, code: CodeId) -> ListQuery {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        ListQuery {
            code_id: Some(code),
            include_subcodes: self.subcodes.is_some(),
            document_id: nonempty(&self.document_id).and_then(|d| d.parse().ok()),
            documents: nonempty(&self.documents),
            coder: nonempty(&self.coder).and_then(|d| d.parse().ok()),
            group: nonempty(&self.group),
            attribute: nonempty(&self.attribute),
            starred: self.starred.is_some().then_some(true),
            overlaps: nonempty(&self.overlaps).and_then(|d| d.parse().ok()),
        }
    }

    /// The query string without the page number.
    fn base(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("group", &self.group),
            ("attribute", &self.attribute),
            ("document_id", &self.document_id),
            ("documents", &self.documents),
            ("coder", &self.coder),
            ("subcodes", &self.subcodes),
            ("starred", &self.starred),
            ("overlaps", &self.overlaps),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", encode_query(v)));
            }
        }
        parts.join("&")
    }
}

const EXCERPTS_PER_PAGE: i64 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "codes/show.html")]
struct CodePage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    code: Code,
    /// Codes this one may move under or merge into (not itself or below).
    others: Vec<Code>,
    excerpts: Vec<Coding>,
    total: i64,
    page: i64,
    pages: i64,
    base_query: String,
    groups: Vec<Choice>,
    attributes: Vec<Choice>,
    documents: Vec<Choice>,
    coders: Vec<Choice>,
    subcodes: bool,
    starred: bool,
    filtered: bool,
    /// The code this list is narrowed to overlapping, if any.
    overlapping: Option<Code>,
    error: Option<String>,
    can_edit: bool,
}

async fn code_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
    Path((_, id)): Path<(ProjectId, CodeId)>,
    Query(query): Query<ExcerptQuery>,
) -> Result<CodePage> {
    let db = &state.db;
    let project = access.id();
    let page = query.page.unwrap_or(1).max(1);
    let list = query.to_list_query(id);
    let found = coding::excerpts(
        db,
        &access,
        &list,
        EXCERPTS_PER_PAGE,
        (page - 1) * EXCERPTS_PER_PAGE,
    )
    .await?;
    let code = found
        .tree
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let options = filter_options(db, project).await?;
    let is = |field: &Option<String>| {
        let field = field.clone();
        move |v: &str| field.as_deref() == Some(v)
    };
    Ok(CodePage {
        chrome,
        groups: filters::groups(&options, is(&query.group)),
        attributes: filters::attribute_values(&options, is(&query.attribute)),
        documents: filters::documents(&options, is(&query.document_id)),
        coders: filters::coders(&options, is(&query.coder)),
        others: outside_branch(&found.tree, id),
        overlapping: list
            .overlaps
            .and_then(|o| found.tree.iter().find(|c| c.id == o).cloned()),
        excerpts: found.items,
        total: found.total,
        page,
        pages: ((found.total + EXCERPTS_PER_PAGE - 1) / EXCERPTS_PER_PAGE).max(1),
        base_query: query.base(),
        subcodes: query.subcodes.is_some(),
        starred: query.starred.is_some(),
        filtered: !query.base().is_empty(),
        error: found.refused,
        can_edit: access.role() != Role::Viewer,
        code,
        project: access.project.clone(),
        tab: "codes",
    })
}

/// The codes a code may move under or merge into: not itself or below.
fn outside_branch(tree: &[Code], id: CodeId) -> Vec<Code> {
    let below = store::codes::branch(tree, id);
    tree.iter()
        .filter(|c| !below.contains(&c.id))
        .cloned()
        .collect()
}

#[derive(Deserialize)]
struct StarForm {
    starred: Option<String>,
    /// Where to go back to (a code page with its filters).
    back: Option<String>,
}

async fn star_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, CodingId)>,
    Form(form): Form<StarForm>,
) -> Result<Redirect> {
    let starred = form.starred.as_deref() == Some("1");
    let changes = store::codings::CodingChanges {
        starred: Some(starred),
        ..Default::default()
    };
    store::codings::update(
        &state.db,
        access.id(),
        id,
        crate::service::coding::actor(&access),
        &changes,
    )
    .await?;
    let back = super::pages::safe_next(form.back.as_deref()).to_owned();
    done(
        &session,
        &format!("{back}#coding-{id}"),
        if starred {
            "Starred as an illustrative quote."
        } else {
            "Star removed."
        },
    )
    .await
}

/// Links from an excerpt back to the exact spot in its document.
#[derive(Template, WebTemplate)]
#[template(path = "codes/report.html")]
struct ReportPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    code_id: CodeId,
    report: crate::formats::code_report::Report,
    query: String,
    by: String,
    subcodes: bool,
}

/// A code's report as a page to read or print.
async fn report_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
    Path((_, code_id)): Path<(ProjectId, CodeId)>,
    Query(mut query): Query<crate::service::exports::CodeReportQuery>,
) -> Result<ReportPage> {
    query.code_id = Some(code_id);
    let report =
        crate::service::exports::code_report(&state.db, &state.texts, &access, &query).await?;
    let mut q = format!("code_id={code_id}");
    for (k, v) in [
        ("include_subcodes", &query.include_subcodes),
        ("by", &query.by),
        ("coder", &query.coder),
        ("documents", &query.documents),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            q.push_str(&format!("&{k}={}", crate::http::encode_query(v)));
        }
    }
    Ok(ReportPage {
        by: query.by.clone().unwrap_or_default(),
        subcodes: query
            .include_subcodes
            .as_deref()
            .is_some_and(|v| v == "true" || v == "1"),
        chrome,
        project: access.project.clone(),
        tab: "codes",
        code_id,
        report,
        query: q,
    })
}

/// Where an excerpt is, as a reader finds it again: "turn 12, 00:03:12".
pub fn location(c: &crate::store::codings::Coding) -> String {
    crate::service::coding::location(c)
}

pub fn spot_url(project: &ProjectId, document: &DocumentId, coding: &CodingId) -> String {
    format!("/projects/{project}/documents/{document}#coding-{coding}")
}
