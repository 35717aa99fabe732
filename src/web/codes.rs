//! The codebook: rules shared by its pages and the JSON API (parsing a
//! code's fields, CSV import and export), and the pages themselves — the
//! codebook (printable), a code with its excerpts, the trash.

use super::coding::ListQuery;
use super::error::{AppError, Result};
use super::extract::{Chrome, Form, Path, ProjectAccess, Query, need};
use super::pages::{back_with, done, encode_query};
use crate::app::AppState;
use crate::domain::ValidationError;
use crate::domain::code::{self, Colour};
use crate::domain::ids::{CodeId, CodingId, DocumentId, ProjectId, UserId};
use crate::domain::project::Role;
use crate::formats::codebook_csv;
use crate::store;
use crate::store::codes::{Code, CodeChanges, ImportOutcome, ImportedCode, NewCode, Trashed};
use crate::store::codings::Coding;
use crate::store::documents::DocumentSummary;
use crate::store::groups::Group;
use crate::store::members::Member;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::PgPool;
use tower_sessions::Session;

/// A code's fields as sent by a form or a script. Absent fields are left
/// alone on update; `parent_id: null` moves a code to the top level;
/// `shortcut: null` or `""` removes its shortcut.
#[derive(Debug, Default, Deserialize)]
pub struct CodeInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::api::explicit")]
    pub parent_id: Option<Option<CodeId>>,
    pub position: Option<i32>,
    #[serde(alias = "color")]
    pub colour: Option<String>,
    pub definition: Option<String>,
    pub inclusion: Option<String>,
    pub exclusion: Option<String>,
    pub example: Option<String>,
    #[serde(default, deserialize_with = "crate::api::explicit")]
    pub shortcut: Option<Option<String>>,
    pub memo: Option<String>,
    /// The version the change was made from; a code changed since is not
    /// overwritten (409).
    pub version: Option<i32>,
}

fn long(field: &'static str, value: Option<&str>) -> Result<Option<String>, ValidationError> {
    value.map(|v| code::long_text(field, v)).transpose()
}

fn shortcut(value: Option<&str>) -> Result<Option<String>, ValidationError> {
    code::shortcut(value.unwrap_or(""))
}

impl CodeInput {
    pub fn into_new(self) -> Result<NewCode, ValidationError> {
        let name = code::name(self.name.as_deref().unwrap_or(""))?;
        Ok(NewCode {
            parent: self.parent_id.flatten(),
            name,
            colour: self
                .colour
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(Colour::parse)
                .transpose()?,
            definition: long("definition", self.definition.as_deref())?.unwrap_or_default(),
            inclusion: long("inclusion", self.inclusion.as_deref())?.unwrap_or_default(),
            exclusion: long("exclusion", self.exclusion.as_deref())?.unwrap_or_default(),
            example: long("example", self.example.as_deref())?.unwrap_or_default(),
            shortcut: shortcut(self.shortcut.flatten().as_deref())?,
        })
    }

    pub fn into_changes(self) -> Result<CodeChanges, ValidationError> {
        Ok(CodeChanges {
            name: self.name.as_deref().map(code::name).transpose()?,
            colour: self
                .colour
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(Colour::parse)
                .transpose()?,
            definition: long("definition", self.definition.as_deref())?,
            inclusion: long("inclusion", self.inclusion.as_deref())?,
            exclusion: long("exclusion", self.exclusion.as_deref())?,
            example: long("example", self.example.as_deref())?,
            shortcut: self.shortcut.map(|s| shortcut(s.as_deref())).transpose()?,
            memo: long("memo", self.memo.as_deref())?,
            parent: self.parent_id,
            position: self.position,
            version: self.version,
        })
    }
}

/// Create a code; answers it as the tree lists it.
pub async fn create(
    db: &PgPool,
    project: ProjectId,
    user: UserId,
    input: CodeInput,
) -> Result<Code> {
    let new = input.into_new()?;
    let id = store::codes::insert(db, project, user, &new).await?;
    store::codes::get(db, project, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Change a code; answers it as it is now.
pub async fn update(
    db: &PgPool,
    project: ProjectId,
    id: CodeId,
    user: UserId,
    input: CodeInput,
) -> Result<Code> {
    let changes = input.into_changes()?;
    store::codes::update(db, project, id, user, &changes).await?;
    store::codes::get(db, project, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The codebook as CSV (`path, definition, inclusion, exclusion, example,
/// colour, shortcut`), in tree order.
pub fn to_csv(tree: &[Code]) -> String {
    codebook_csv::write(tree.iter().map(|c| codebook_csv::CodeOut {
        path: &c.path,
        definition: &c.definition,
        inclusion: &c.inclusion,
        exclusion: &c.exclusion,
        example: &c.example,
        colour: c.colour.as_str(),
        shortcut: c.shortcut.as_deref(),
    }))
}

/// Import a codebook CSV: all rows or none.
pub async fn import_csv(
    db: &PgPool,
    project: ProjectId,
    user: UserId,
    text: &str,
) -> Result<ImportOutcome> {
    let rows = codebook_csv::read(text)
        .map_err(|e| AppError::Invalid(ValidationError::new("file", e.to_string())))?;
    if rows.is_empty() {
        return Err(AppError::Invalid(ValidationError::new(
            "file",
            "the file has a header but no codes",
        )));
    }
    let codes: Vec<ImportedCode> = rows
        .into_iter()
        .map(|r| ImportedCode {
            path: r.path,
            definition: r.definition,
            inclusion: r.inclusion,
            exclusion: r.exclusion,
            example: r.example,
            colour: r.colour,
            shortcut: r.shortcut,
        })
        .collect();
    Ok(store::codes::import(db, project, user, &codes).await?)
}

/// The codebook CSV as a download named after the project.
pub fn csv_download(
    project_name: &str,
    tree: &[Code],
) -> impl axum::response::IntoResponse + use<> {
    use axum::http::header;
    let name = super::exports::file_stem(project_name);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-codebook.csv\"",
                    name.trim_matches('_')
                ),
            ),
        ],
        to_csv(tree),
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
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

fn rows(tree: Vec<Code>) -> Vec<CodeRow> {
    let branch_counts: Vec<i64> = tree
        .iter()
        .map(|c| {
            store::codes::branch(&tree, c.id)
                .iter()
                .filter_map(|id| tree.iter().find(|x| x.id == *id))
                .map(|x| x.codings)
                .sum()
        })
        .collect();
    tree.iter()
        .zip(branch_counts)
        .map(|(c, branch_codings)| {
            let siblings: Vec<&Code> = tree.iter().filter(|x| x.parent_id == c.parent_id).collect();
            CodeRow {
                first: siblings.first().is_some_and(|x| x.id == c.id),
                last: siblings.last().is_some_and(|x| x.id == c.id),
                code: c.clone(),
                branch_codings,
            }
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
    let tree = store::codes::tree(&state.db, access.id()).await?;
    let trashed = store::codes::trash_list(&state.db, access.id())
        .await?
        .len();
    Ok(CodebookPage {
        chrome,
        rows: rows(tree),
        trashed,
        can_edit: access.role() != Role::Viewer,
        project: access.project,
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

fn parse_parent(raw: Option<&str>) -> Result<Option<Option<CodeId>>> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(id) => id
            .parse()
            .map(|id| Some(Some(id)))
            .map_err(|_| AppError::BadRequest("parent_id must be a code id".into())),
    }
}

impl CodeForm {
    fn into_input(self) -> Result<CodeInput> {
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
        Ok(input) => create(&state.db, access.id(), access.user.id, input).await,
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
        Ok(input) => update(&state.db, access.id(), id, access.user.id, input).await,
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
        Err(e) => back_with(&session, &back, e.into()).await,
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
                    "“{}” merged into “{}”: its {} coding{} are now here.",
                    from.path,
                    target.path,
                    from.codings,
                    if from.codings == 1 { "" } else { "s" }
                ),
            )
            .await
        }
        Err(e) => back_with(&session, &back, e.into()).await,
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
        project: access.project,
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
            "“{}” moved to the trash with {} coding{}. You can restore it from the trash.",
            code.path,
            gone.codings,
            if gone.codings == 1 { "" } else { "s" }
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
        project: access.project,
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
                "“{}” restored with {} coding{}.",
                r.name,
                r.codings,
                if r.codings == 1 { "" } else { "s" }
            );
            if r.moved_to_top {
                message.push_str(" Its parent is gone, so it is at the top level now.");
            }
            if r.shortcuts_dropped > 0 {
                message.push_str(" Shortcut keys that other codes use now were removed.");
            }
            done(&session, &code_url(access.id(), id), message).await
        }
        Err(e) => back_with(&session, &back, e.into()).await,
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
            "Trash emptied: {} code{} and {} coding{} deleted for good.",
            gone.codes,
            if gone.codes == 1 { "" } else { "s" },
            gone.codings,
            if gone.codings == 1 { "" } else { "s" }
        ),
    )
    .await
}

async fn import_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    mut multipart: Multipart,
) -> Result<Redirect> {
    let back = codebook_url(access.id());
    let mut bytes = None;
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("file") {
            bytes = Some(field.bytes().await?);
        }
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return back_with(
            &session,
            &back,
            AppError::BadRequest("choose a CSV file to import".into()),
        )
        .await;
    };
    let imported = match crate::domain::text::decode_normalised(&bytes) {
        Ok(text) => import_csv(&state.db, access.id(), access.user.id, &text).await,
        Err(e) => Err(AppError::Invalid(ValidationError::new(
            "file",
            e.to_string(),
        ))),
    };
    match imported {
        Ok(o) => {
            done(
                &session,
                &back,
                format!(
                    "Codebook imported: {} code{} added, {} updated.",
                    o.created,
                    if o.created == 1 { "" } else { "s" },
                    o.updated
                ),
            )
            .await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

/// A choice in a filter menu.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The excerpts filter as a page's query string (every field a string, so
/// an empty select means "any").
#[derive(Debug, Default, Deserialize)]
struct ExcerptQuery {
    group: Option<String>,
    attribute: Option<String>,
    document_id: Option<String>,
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
    let tree = store::codes::tree(db, project).await?;
    let code = tree
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let below = store::codes::branch(&tree, id);
    let others: Vec<Code> = tree
        .iter()
        .filter(|c| !below.contains(&c.id))
        .cloned()
        .collect();

    let page = query.page.unwrap_or(1).max(1);
    let (excerpts, total, error) =
        match super::coding::filter(db, project, &query.to_list_query(id)).await {
            Ok(filter) => {
                let (items, total) = store::codings::list(
                    db,
                    project,
                    &filter,
                    EXCERPTS_PER_PAGE,
                    (page - 1) * EXCERPTS_PER_PAGE,
                )
                .await?;
                (items, total, None)
            }
            Err(e) if e.status().is_client_error() => (Vec::new(), 0, Some(e.to_string())),
            Err(e) => return Err(e),
        };

    let selected = |v: &Option<String>, value: &str| v.as_deref() == Some(value);
    let group_list: Vec<Group> = store::groups::list(db, project).await?;
    let mut groups: Vec<Choice> = group_list
        .iter()
        .map(|g| Choice {
            value: g.id.to_string(),
            label: g.name.clone(),
            selected: selected(&query.group, &g.id.to_string()),
        })
        .collect();
    groups.push(Choice {
        value: "unassigned".into(),
        label: "Unassigned speakers".into(),
        selected: selected(&query.group, "unassigned"),
    });

    let participants = store::participants::list(db, project).await?;
    let mut pairs: Vec<(String, String)> = participants
        .iter()
        .flat_map(|p| p.attributes.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    pairs.sort();
    pairs.dedup();
    let attributes = pairs
        .into_iter()
        .map(|(k, v)| {
            let value = format!("{k}={v}");
            Choice {
                selected: selected(&query.attribute, &value),
                label: format!("{k}: {v}"),
                value,
            }
        })
        .collect();

    let (docs, _): (Vec<DocumentSummary>, i64) =
        store::documents::list(db, project, 10_000, 0).await?;
    let documents = docs
        .iter()
        .map(|d| Choice {
            value: d.id.to_string(),
            label: d.title.clone(),
            selected: selected(&query.document_id, &d.id.to_string()),
        })
        .collect();
    let members: Vec<Member> = store::members::list(db, project).await?;
    let coders = members
        .iter()
        .filter(|m| m.role != Role::Viewer)
        .map(|m| Choice {
            value: m.user_id.to_string(),
            label: m.name.clone(),
            selected: selected(&query.coder, &m.user_id.to_string()),
        })
        .collect();

    Ok(CodePage {
        chrome,
        others,
        excerpts,
        total,
        page,
        pages: ((total + EXCERPTS_PER_PAGE - 1) / EXCERPTS_PER_PAGE).max(1),
        base_query: query.base(),
        groups,
        attributes,
        documents,
        coders,
        subcodes: query.subcodes.is_some(),
        starred: query.starred.is_some(),
        filtered: !query.base().is_empty(),
        overlapping: query
            .overlaps
            .as_deref()
            .and_then(|o| o.trim().parse::<CodeId>().ok())
            .and_then(|o| tree.iter().find(|c| c.id == o).cloned()),
        error,
        can_edit: access.role() != Role::Viewer,
        code,
        project: access.project,
        tab: "codes",
    })
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
        super::coding::actor(&access),
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
pub fn spot_url(project: &ProjectId, document: &DocumentId, coding: &CodingId) -> String {
    format!("/projects/{project}/documents/{document}#coding-{coding}")
}
