//! The search page: keyword in context across the project, filtered by
//! group, document and speaker role; "code all hits" (or the ticked ones)
//! previewed on its own page, then written as one batch with an Undo.

use super::chrome::Chrome;
use super::pages::{back_with, done, encode_query};
use crate::app::AppState;
use crate::domain::ids::{CodeId, DocumentId, ProjectId};
use crate::domain::project::Role;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Form, Path, ProjectAccess, Query, need};
use crate::http::heavy::Heavy;
use crate::service::analysis::options::filter_options;
use crate::service::search::{self, CodeHits, Extent, Hit, HitRef, Planned, SearchQuery};
use crate::service::{self, Error};
use crate::store;
use crate::store::codes::Code;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

/// Hits on a page.
const PER_PAGE: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/search", get(search_page))
        .route("/projects/{project_id}/search/code", post(code_form))
        .route(
            "/projects/{project_id}/search/batches/{batch_id}/undo",
            post(undo_form),
        )
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "search/show.html")]
struct SearchPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    q: String,
    exact: bool,
    all_speakers: bool,
    groups: Vec<Choice>,
    documents: Vec<Choice>,
    codes: Vec<Code>,
    /// The search as hidden fields, for the "code all hits" form.
    fields: Vec<(String, String)>,
    /// The search as a query string, for pages and links.
    query: String,
    hits: Vec<Hit>,
    total: usize,
    in_documents: usize,
    page: usize,
    pages: usize,
    error: Option<String>,
    can_code: bool,
    /// The batch just written: (id, how many, the code's name).
    batch: Option<(i64, i32, String)>,
}

impl SearchPage {
    fn hit_value(h: &Hit) -> String {
        format!("{}:{}:{}", h.document_id, h.start, h.end)
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    #[serde(flatten)]
    search: SearchQuery,
    page: Option<usize>,
    batch: Option<i64>,
}

/// The search as name and value pairs.
fn search_fields(q: &SearchQuery) -> Vec<(String, String)> {
    let mut out = vec![("q".to_owned(), q.q.trim().to_owned())];
    if q.exact {
        out.push(("exact".into(), "true".into()));
    }
    for (k, v) in [
        ("documents", &q.documents),
        ("group", &q.group),
        ("speakers", &q.speakers),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            out.push((k.into(), v.into()));
        }
    }
    out
}

fn query_string(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_query(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn search_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    chrome: Chrome,
    Query(query): Query<PageQuery>,
) -> Result<SearchPage> {
    let db = &state.db;
    let project = access.id();
    let page = query.page.unwrap_or(1).max(1);
    let mut error = None;
    let (hits, total, in_documents) = if query.search.q.trim().is_empty() {
        (Vec::new(), 0, 0)
    } else {
        let offset = (page - 1).saturating_mul(PER_PAGE);
        match search::run(db, &access, &query.search, PER_PAGE, offset).await {
            Ok(found) => (found.items, found.total, found.documents),
            Err(Error::Invalid(e)) => {
                error = Some(e.message);
                (Vec::new(), 0, 0)
            }
            Err(e) => return Err(e.into()),
        }
    };
    let options = filter_options(db, project).await?;
    let chosen_group = query.search.group.clone().unwrap_or_default();
    let chosen_doc = query.search.documents.clone().unwrap_or_default();
    let batch = match query.batch {
        Some(b) => store::search::batch(db, project, b)
            .await?
            .filter(|b| b.undone_at.is_none() && b.coder == access.user_id())
            .map(|b| (b.id, b.created, b.code)),
        None => None,
    };
    let codes = store::codes::outline(db, project).await?;
    let batch = batch.map(|(id, n, code)| {
        let name = codes
            .iter()
            .find(|c| c.id == code)
            .map_or_else(String::new, |c| c.name.clone());
        (id, n, name)
    });
    let fields = search_fields(&query.search);
    Ok(SearchPage {
        chrome,
        q: query.search.q.trim().to_owned(),
        exact: query.search.exact,
        all_speakers: query.search.speakers.as_deref() == Some("all"),
        groups: options
            .groups
            .iter()
            .map(|(id, name)| Choice {
                value: id.to_string(),
                label: name.clone(),
                selected: chosen_group == id.to_string() || chosen_group.eq_ignore_ascii_case(name),
            })
            .collect(),
        documents: options
            .documents
            .iter()
            .map(|(id, title)| Choice {
                value: id.to_string(),
                label: title.clone(),
                selected: chosen_doc == id.to_string(),
            })
            .collect(),
        codes,
        query: query_string(&fields),
        fields,
        pages: total.div_ceil(PER_PAGE),
        hits,
        total,
        in_documents,
        page,
        error,
        can_code: access.role() != Role::Viewer,
        batch,
        project: access.project.clone(),
        tab: "search",
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "search/preview.html")]
struct PreviewPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    code: Code,
    extent: &'static str,
    planned: Vec<Planned>,
    created: usize,
    existing: usize,
    /// Everything the form sent, to send again with `confirm`.
    fields: Vec<(String, String)>,
    back: String,
}

/// The "code all hits" form: without `confirm`, a preview of what would
/// be written; with it, the batch, then back to the search with Undo.
async fn code_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    _heavy: Heavy,
    session: Session,
    chrome: Chrome,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let db = &state.db;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let query = SearchQuery {
        q: get("q").unwrap_or_default(),
        exact: matches!(get("exact").as_deref(), Some("true" | "on" | "1")),
        documents: get("documents"),
        group: get("group"),
        speakers: get("speakers"),
    };
    let fields = search_fields(&query);
    let back = format!("/projects/{}/search?{}", access.id(), query_string(&fields));
    let parsed = (|| -> service::Result<(CodeId, Extent, Option<Vec<HitRef>>)> {
        let code = get("code_id")
            .and_then(|c| c.trim().parse::<CodeId>().ok())
            .ok_or_else(|| Error::invalid("code_id", "choose the code to apply"))?;
        let extent = Extent::parse(get("extent").as_deref())?;
        let ticked: Vec<HitRef> = pairs
            .iter()
            .filter(|(n, _)| n == "hit")
            .map(|(_, v)| parse_hit(v))
            .collect::<service::Result<_>>()?;
        Ok((code, extent, (!ticked.is_empty()).then_some(ticked)))
    })();
    let (code, extent, only) = match parsed {
        Ok(x) => x,
        Err(e) => return Ok(back_with(&session, &back, e).await?.into_response()),
    };
    let confirm = get("confirm").is_some();
    let req = CodeHits {
        query,
        code,
        extent,
        only,
        dry_run: !confirm,
    };
    let done_ = match search::code_hits(db, &access, &req).await {
        Ok(d) => d,
        Err(e) => return Ok(back_with(&session, &back, e).await?.into_response()),
    };
    if confirm {
        return Ok(match done_.batch {
            Some(batch) => Redirect::to(&format!("{back}&batch={batch}")).into_response(),
            None => done(
                &session,
                &back,
                format!(
                    "Nothing new to code: you had coded all {} already.",
                    service::plural(done_.existing, "passage", "passages")
                ),
            )
            .await?
            .into_response(),
        });
    }
    let code = store::codes::get(db, access.id(), code)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut fields: Vec<(String, String)> =
        pairs.into_iter().filter(|(n, _)| n != "confirm").collect();
    fields.push(("confirm".into(), "1".into()));
    Ok(PreviewPage {
        chrome,
        code,
        extent: extent.as_str(),
        created: done_.created,
        existing: done_.existing,
        planned: done_.codings,
        fields,
        back,
        project: access.project.clone(),
        tab: "search",
    }
    .into_response())
}

/// A ticked hit as the form sends it: `document:start:end`.
fn parse_hit(v: &str) -> service::Result<HitRef> {
    let mut parts = v.split(':').map(|p| p.trim().parse::<usize>().ok());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Some(d)), Some(Some(start)), Some(Some(end)), None) => Ok(HitRef {
            document_id: DocumentId(d as i64),
            start,
            end,
        }),
        _ => Err(Error::invalid("hit", format!("“{v}” is not a hit"))),
    }
}

/// Undo a batch, then back to the search it came from (its fields).
async fn undo_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, batch)): Path<(ProjectId, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Redirect> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let fields = search_fields(&SearchQuery {
        q: get("q").unwrap_or_default(),
        exact: get("exact").is_some(),
        documents: get("documents"),
        group: get("group"),
        speakers: get("speakers"),
    });
    let back = format!("/projects/{}/search?{}", access.id(), query_string(&fields));
    match search::undo(&state.db, &access, batch).await {
        Ok(n) => {
            done(
                &session,
                &back,
                format!(
                    "Undone: {} removed.",
                    service::plural(n, "coding", "codings")
                ),
            )
            .await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}
