//! Questionnaire pages: the surveys of a project and the upload form, the
//! check of a file (columns as guessed, to correct; every problem; what a
//! re-import would change), a survey with its scales, and the comparison of
//! a scale between waves with its forest and box plots.

use super::chrome::Chrome;
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::ids::ProjectId;
use crate::domain::questionnaire::{Column, ColumnKind};
use crate::formats::plots::{self, BoxGroup, ForestRow};
use crate::http::error::{AppError, Result};
use crate::http::extract::{Form, Path, ProjectAccess, Query, need};
use crate::http::upload;
use crate::service;
use crate::service::analysis::joint_display as joint;
use crate::service::surveys::{self as rules, Change, CompareQuery, Comparison, NewScale, Preview};
use crate::store::projects::MemberProject;
use crate::store::surveys::Survey;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/surveys", get(list_page))
        .route("/projects/{project_id}/surveys/check", post(check))
        .route("/projects/{project_id}/surveys/import", post(import))
        .route("/projects/{project_id}/surveys/{survey_id}", get(show_page))
        .route(
            "/projects/{project_id}/surveys/{survey_id}/delete",
            post(delete),
        )
        .route(
            "/projects/{project_id}/surveys/{survey_id}/scales",
            post(create_scale),
        )
        .route(
            "/projects/{project_id}/surveys/{survey_id}/compare",
            get(compare_page),
        )
        .route("/projects/{project_id}/joint-display", get(joint_page))
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/list.html")]
struct ListPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    surveys: Vec<Survey>,
}

async fn list_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
) -> Result<ListPage> {
    Ok(ListPage {
        surveys: rules::list(&state.db, &access).await?,
        project: access.project.clone(),
        tab: "surveys",
        chrome,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/check.html")]
struct CheckPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    preview: Preview,
    min: String,
    max: String,
    kinds: [&'static str; 5],
    /// Why the last attempt was refused (a name taken, say).
    refused: Option<String>,
}

const KINDS: [&str; 5] = ["respondent", "wave", "attribute", "item", "ignore"];

fn check_page(
    chrome: Chrome,
    access: &service::Access,
    preview: Preview,
    up: &rules::Upload,
    refused: Option<String>,
) -> CheckPage {
    CheckPage {
        chrome,
        project: access.project.clone(),
        tab: "surveys",
        preview,
        min: up.min.clone().unwrap_or_default(),
        max: up.max.clone().unwrap_or_default(),
        kinds: KINDS,
        refused,
    }
}

async fn check(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    chrome: Chrome,
    session: Session,
    multipart: Multipart,
) -> Result<Response> {
    let back = format!("/projects/{}/surveys", access.id());
    let up = upload::survey(multipart).await?;
    match rules::preview(&state.db, &access, &up).await {
        Ok(preview) => Ok(check_page(chrome, &access, preview, &up, None).into_response()),
        Err(e) => Ok(back_with(&session, &back, e).await?.into_response()),
    }
}

/// The check page's confirmation: the file (as CSV), its name and range,
/// and each column's kind as `kind_<index>`.
#[derive(Debug, Deserialize)]
struct ImportForm {
    name: String,
    csv: String,
    #[serde(default)]
    min: String,
    #[serde(default)]
    max: String,
    replace: Option<String>,
    #[serde(flatten)]
    kinds: std::collections::HashMap<String, String>,
}

async fn import(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    chrome: Chrome,
    session: Session,
    Form(form): Form<ImportForm>,
) -> Result<Response> {
    let headers = crate::formats::survey_file::csv(&form.csv)
        .map(|t| t.headers)
        .unwrap_or_default();
    let columns: Vec<Column> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let kind = ColumnKind::parse(form.kinds.get(&format!("kind_{i}"))?)?;
            Some(Column {
                name: name.clone(),
                kind,
            })
        })
        .collect();
    let mut up = rules::Upload {
        file_name: "survey.csv".into(),
        bytes: form.csv.clone().into_bytes(),
        name: Some(form.name.clone()),
        replace: form.replace.clone(),
        columns: Some(serde_json::to_string(&columns).map_err(|e| AppError::Internal(e.into()))?),
        min: Some(form.min.clone()).filter(|m| !m.trim().is_empty()),
        max: Some(form.max.clone()).filter(|m| !m.trim().is_empty()),
        dry_run: None,
    };
    let refused = match rules::import(&state.db, &access, &up).await {
        Ok(outcome) => match outcome.survey {
            Some(s) => {
                let to = format!("/projects/{}/surveys/{}", access.id(), s.id);
                let said = format!(
                    "{} “{}”: {} responses in {} waves.",
                    if outcome.replaced {
                        "Replaced"
                    } else {
                        "Imported"
                    },
                    s.name,
                    s.responses,
                    s.waves.len()
                );
                return Ok(done(&session, &to, said).await?.into_response());
            }
            None => None,
        },
        Err(e @ (service::Error::Conflict(_) | service::Error::Invalid(_))) => Some(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    up.replace = None;
    let preview = rules::preview(&state.db, &access, &up).await?;
    Ok(check_page(chrome, &access, preview, &up, refused).into_response())
}

struct ScaleView {
    scale: rules::ScaleReport,
    alpha: String,
    by_wave: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/show.html")]
struct ShowPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    survey: Survey,
    scales: Vec<ScaleView>,
    can_edit: bool,
}

fn alpha_text(r: &Option<crate::domain::survey::Reliability>) -> String {
    r.as_ref().map_or_else(
        || "–".into(),
        |a| format!("{:.2} (n = {})", a.alpha, a.complete),
    )
}

async fn show_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
    Path((_, id)): Path<(ProjectId, i64)>,
) -> Result<ShowPage> {
    let (survey, reports) = rules::scale_reports(&state.db, &access, id).await?;
    let scales = reports
        .into_iter()
        .map(|r| ScaleView {
            alpha: alpha_text(&r.alpha),
            by_wave: r
                .alpha_by_wave
                .iter()
                .map(|(w, a)| (w.clone(), alpha_text(a)))
                .collect(),
            scale: r,
        })
        .collect();
    Ok(ShowPage {
        survey,
        scales,
        can_edit: access.role() >= crate::domain::project::Role::Coder,
        project: access.project.clone(),
        tab: "surveys",
        chrome,
    })
}

async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, i64)>,
) -> Result<Redirect> {
    rules::delete(&state.db, &access, id).await?;
    done(
        &session,
        &format!("/projects/{}/surveys", access.id()),
        "Survey deleted.",
    )
    .await
}

/// The new-scale form: items and reversed items as repeated fields.
async fn create_scale(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/surveys/{id}", access.id());
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let number = |k: &'static str| {
        get(k)
            .and_then(|v| crate::domain::questionnaire::number(&v))
            .ok_or_else(|| service::Error::invalid(k, format!("{k} must be a number")))
    };
    let new = match (number("min"), number("max")) {
        (Ok(min), Ok(max)) => NewScale {
            name: get("name").unwrap_or_default(),
            items: all("item"),
            reverse: all("reverse"),
            min,
            max,
            score: get("score"),
            min_items: get("min_items").and_then(|v| v.trim().parse().ok()),
        },
        (Err(e), _) | (_, Err(e)) => return back_with(&session, &back, e).await,
    };
    match rules::create_scale(&state.db, &access, id, &new).await {
        Ok(r) => {
            let said = format!(
                "Scale “{}” added: α = {}.",
                r.scale.name,
                alpha_text(&r.alpha)
            );
            done(&session, &back, said).await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

/// A change as the comparison table prints it.
struct ChangeView {
    label: String,
    waves: Vec<String>,
    difference: String,
    welch: String,
    g: String,
}

fn fmt(x: Option<f64>, places: usize) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.places$}"))
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < .001".into()
    } else {
        format!("p = {}", format!("{p:.3}").trim_start_matches('0'))
    }
}

fn change_view(c: &Change, label: &str) -> ChangeView {
    ChangeView {
        label: label.to_owned(),
        waves: c
            .waves
            .iter()
            .map(|w| {
                let ci = w
                    .stats
                    .ci95
                    .map_or_else(String::new, |i| format!(" [{:.2}, {:.2}]", i.low, i.high));
                format!(
                    "n = {}, {} (SD {}){ci}",
                    w.stats.n,
                    fmt(w.stats.mean, 2),
                    fmt(w.stats.sd, 2)
                )
            })
            .collect(),
        difference: match c.welch {
            Some(w) => format!(
                "{:+.2} [{:.2}, {:.2}]",
                w.difference, w.ci95.low, w.ci95.high
            ),
            None => "–".into(),
        },
        welch: c.welch.map_or_else(
            || "–".into(),
            |w| format!("t({:.1}) = {:.2}, {}", w.df, w.t, p_text(w.p)),
        ),
        g: fmt(c.hedges_g, 2),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/compare.html")]
struct ComparePage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    cmp: Comparison,
    rows: Vec<ChangeView>,
    interaction: String,
    forest: String,
    boxes: String,
    scales: Vec<(i64, String, bool)>,
    attributes: Vec<(String, bool)>,
}

fn forest_row(c: &Change, label: &str, overall: bool) -> ForestRow {
    let (estimate, low, high) = match c.welch {
        Some(w) => (w.difference, w.ci95.low, w.ci95.high),
        None => (f64::NAN, f64::NAN, f64::NAN),
    };
    ForestRow {
        label: label.to_owned(),
        note: format!("n = {} → {}", c.waves[0].stats.n, c.waves[1].stats.n),
        estimate,
        low,
        high,
        overall,
    }
}

async fn compare_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
    Path((_, id)): Path<(ProjectId, i64)>,
    Query(query): Query<CompareQuery>,
) -> Result<ComparePage> {
    let cmp = rules::compare(&state.db, &access, id, &query).await?;
    let detail = rules::get(&state.db, &access, id).await?;
    let mut rows: Vec<ChangeView> = cmp
        .groups
        .iter()
        .map(|g| change_view(g, g.value.as_deref().unwrap_or("")))
        .collect();
    rows.push(change_view(&cmp.overall, "Everyone"));
    let mut forest_rows: Vec<ForestRow> = cmp
        .groups
        .iter()
        .map(|g| forest_row(g, g.value.as_deref().unwrap_or(""), false))
        .collect();
    forest_rows.push(forest_row(&cmp.overall, "Everyone", true));
    let unit = format!(
        "Change in {} ({} → {})",
        cmp.scale.name, cmp.waves[0], cmp.waves[1]
    );
    let mut box_groups: Vec<BoxGroup> = cmp
        .groups
        .iter()
        .map(|g| BoxGroup {
            label: g.value.clone().unwrap_or_default(),
            waves: [g.waves[0].scores.clone(), g.waves[1].scores.clone()],
        })
        .collect();
    box_groups.push(BoxGroup {
        label: "Everyone".into(),
        waves: [
            cmp.overall.waves[0].scores.clone(),
            cmp.overall.waves[1].scores.clone(),
        ],
    });
    let interaction = match (&cmp.within, cmp.interaction) {
        (Some(a), Some(e)) => format!(
            "Wave × {a} interaction (two-way ANOVA, Type II): F({}, {}) = {:.2}, {}",
            e.df1,
            e.df2,
            e.f,
            p_text(e.p)
        ),
        (Some(a), None) => {
            format!("Wave × {a} interaction: not estimable (a {a} is missing from a wave)")
        }
        (None, _) => String::new(),
    };
    Ok(ComparePage {
        forest: plots::forest(&unit, &unit, &forest_rows),
        boxes: plots::boxes(
            &format!("{} scores by wave", cmp.scale.name),
            &cmp.scale.name,
            &cmp.waves,
            &box_groups,
        ),
        scales: detail
            .scales
            .iter()
            .map(|s| (s.id, s.name.clone(), s.id == cmp.scale.id))
            .collect(),
        attributes: detail
            .survey
            .columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Attribute)
            .map(|c| (c.name.clone(), Some(&c.name) == cmp.within.as_ref()))
            .collect(),
        rows,
        interaction,
        project: access.project.clone(),
        tab: "surveys",
        cmp,
        chrome,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/joint.html")]
struct JointPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    joint: Option<joint::JointDisplay>,
    error: Option<String>,
    /// Every scale of every survey: id, "survey: scale", chosen.
    scales: Vec<(i64, String, bool)>,
    codes: Vec<crate::web::filters::Choice>,
    attributes: Vec<(String, bool)>,
    query: String,
    rows: Vec<JointRowView>,
}

struct JointRowView {
    value: String,
    waves: Vec<String>,
    change: String,
    p: String,
    g: String,
    themes: Vec<String>,
    quotes: Vec<(String, String, String)>,
    overall: bool,
}

fn joint_row_view(
    r: &joint::JointRow,
    codes: &[crate::store::codes::Code],
    overall: bool,
) -> JointRowView {
    let c = r.change.as_ref();
    JointRowView {
        value: r.value.clone(),
        waves: (0..2)
            .map(|i| {
                c.map_or_else(
                    || "–".into(),
                    |c| {
                        format!(
                            "{} (n = {})",
                            fmt(c.waves[i].stats.mean, 2),
                            c.waves[i].stats.n
                        )
                    },
                )
            })
            .collect(),
        change: c.and_then(|c| c.welch).map_or_else(
            || "–".into(),
            |w| {
                format!(
                    "{:+.2} [{:.2}, {:.2}]",
                    w.difference, w.ci95.low, w.ci95.high
                )
            },
        ),
        p: c.and_then(|c| c.welch)
            .map_or_else(|| "–".into(), |w| p_text(w.p)),
        g: fmt(c.and_then(|c| c.hedges_g), 2),
        themes: r
            .themes
            .iter()
            .map(|t| match (t.cases_pct, t.participants) {
                (Some(p), Some(n)) => format!("{p:.0}% ({}/{n})", t.cases),
                _ => "–".into(),
            })
            .collect(),
        quotes: r
            .themes
            .iter()
            .zip(codes)
            .filter_map(|(t, c)| {
                t.quote
                    .as_ref()
                    .map(|(text, who)| (c.name.clone(), text.clone(), who.clone()))
            })
            .collect(),
        overall,
    }
}

async fn joint_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: crate::http::heavy::Heavy,
    chrome: Chrome,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> Result<JointPage> {
    let db = &state.db;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let ticked: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == "code")
        .map(|(_, v)| v.clone())
        .collect();
    let mut scales = Vec::new();
    for s in rules::list(db, &access).await? {
        for sc in rules::get(db, &access, s.id).await?.scales {
            scales.push((sc.id, format!("{}: {}", s.name, sc.name), false));
        }
    }
    let q = joint::JointQuery {
        scale: get("scale").or_else(|| scales.first().map(|s| s.0.to_string())),
        within: get("within"),
        codes: get("codes").or_else(|| (!ticked.is_empty()).then(|| ticked.join(","))),
        waves: get("waves"),
    };
    let (joint, error) = if q.scale.is_none() {
        (None, None)
    } else {
        match joint::build(db, &state.attributions, &access, &q).await {
            Ok(j) => (Some(j), None),
            Err(service::Error::Invalid(e)) => (None, Some(e.message)),
            Err(e) => return Err(e.into()),
        }
    };
    let chosen_codes: Vec<String> = joint
        .as_ref()
        .map(|j| j.codes.iter().map(|c| c.id.to_string()).collect())
        .unwrap_or_default();
    for s in &mut scales {
        s.2 = joint.as_ref().is_some_and(|j| j.comparison.scale.id == s.0);
    }
    let attributes = match &joint {
        Some(j) => j
            .comparison
            .survey
            .columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Attribute)
            .map(|c| (c.name.clone(), c.name == j.attribute))
            .collect(),
        None => Vec::new(),
    };
    let codes = crate::store::codes::outline(db, access.id())
        .await?
        .into_iter()
        .map(|c| crate::web::filters::Choice {
            selected: chosen_codes.contains(&c.id.to_string()),
            value: c.id.to_string(),
            label: c.path,
        })
        .collect();
    let mut rows = Vec::new();
    let mut query = String::new();
    if let Some(j) = &joint {
        rows = j
            .rows
            .iter()
            .map(|r| joint_row_view(r, &j.codes, false))
            .collect();
        rows.push(joint_row_view(&j.overall, &j.codes, true));
        query = format!(
            "scale={}&within=attr:{}&codes={}",
            j.comparison.scale.id,
            crate::http::encode_query(&j.attribute),
            chosen_codes.join(",")
        );
    }
    Ok(JointPage {
        tab: "surveys",
        project: access.project.clone(),
        joint,
        error,
        scales,
        codes,
        attributes,
        query,
        rows,
        chrome,
    })
}
