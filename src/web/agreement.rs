//! Intercoder agreement pages: the report with its settings (blind coding,
//! the adjudicator), two coders side by side on one document and code, and
//! the forms that settle each stretch into the consensus set.

use super::chrome::Chrome;
use super::filters::Choice;
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::agreement::{Decision, Side, Unit};
use crate::domain::ids::{CodeId, DocumentId, ProjectId, UserId};
use crate::formats::agreement_export::with_ci;
use crate::http::encode_query;
use crate::http::error::Result;
use crate::http::extract::{Form, ProjectAccess, Query, need};
use crate::http::heavy::Heavy;
use crate::service::agreement::{
    self as rules, AgreementQuery, Comparison, Pairing, Report, Ruling,
};
use crate::service::{self, plural};
use crate::store;
use crate::store::agreement::Recorded;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query as RawPairs, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/agreement", get(report_page))
        .route(
            "/projects/{project_id}/agreement/settings",
            post(save_settings),
        )
        .route(
            "/projects/{project_id}/agreement/compare",
            get(compare_page),
        )
        .route("/projects/{project_id}/agreement/decide", post(decide))
        .route(
            "/projects/{project_id}/agreement/agreed",
            post(accept_agreed),
        )
}

/// A report row as the page shows it.
struct RowView {
    code_id: Option<CodeId>,
    label: String,
    depth: i32,
    units: u64,
    table: Option<[u64; 4]>,
    percent: String,
    kappa: String,
    alpha: String,
    pairs: Vec<String>,
}

struct CoderChoice {
    id: UserId,
    name: String,
    checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "agreement/show.html")]
struct ReportPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    coders: Vec<CoderChoice>,
    documents: Vec<Choice>,
    codes: Vec<Choice>,
    documents_chosen: usize,
    codes_chosen: usize,
    /// Members who may adjudicate: id, name, chosen.
    adjudicators: Vec<(UserId, String, bool)>,
    units: Vec<(&'static str, &'static str, bool)>,
    rollup: bool,
    bootstrap: usize,
    seed: String,
    error: Option<String>,
    report: Option<Report>,
    rows: Vec<RowView>,
    pair_names: Vec<String>,
    query: String,
    /// `a,b` when exactly two coders are compared (side-by-side links).
    pair: Option<String>,
    decisions: Vec<Recorded>,
    may_compare: bool,
    may_adjudicate: bool,
    is_owner: bool,
}

fn row_view(code: Option<&store::codes::Code>, f: &crate::domain::agreement::Figures) -> RowView {
    let two = (f.pairs.len() == 1).then(|| &f.pairs[0]);
    RowView {
        code_id: code.map(|c| c.id),
        label: code.map_or_else(|| "All codes (pooled)".into(), |c| c.name.clone()),
        depth: code.map_or(0, |c| c.depth),
        units: f.units,
        table: two.map(|p| {
            [
                p.table.both,
                p.table.only_a,
                p.table.only_b,
                p.table.neither,
            ]
        }),
        percent: f.percent.map_or_else(|| "–".into(), |p| format!("{p:.1}")),
        kappa: with_ci(
            two.and_then(|p| p.kappa.value),
            two.and_then(|p| p.kappa.ci),
        ),
        alpha: with_ci(f.alpha.value, f.alpha.ci),
        pairs: f
            .pairs
            .iter()
            .map(|p| with_ci(p.kappa.value, p.kappa.ci))
            .collect(),
    }
}

/// The query string a report was made with (for exports and reloads).
fn query_of(r: &Report, asked: &AgreementQuery) -> String {
    let ids: Vec<String> = r.coders.iter().map(|c| c.id.to_string()).collect();
    let mut q = format!(
        "coders={}&unit={}&bootstrap={}&seed={}",
        ids.join(","),
        r.unit.as_str(),
        r.bootstrap,
        r.seed
    );
    if r.rollup {
        q.push_str("&rollup=true");
    }
    if let Some(d) = &asked.documents {
        q.push_str(&format!("&documents={}", encode_query(d)));
    }
    if let Some(c) = &asked.codes {
        q.push_str(&format!("&codes={}", encode_query(c)));
    }
    q
}

async fn report_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    chrome: Chrome,
    RawPairs(pairs): RawPairs<Vec<(String, String)>>,
) -> Result<ReportPage> {
    let db = &state.db;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let ticked = |name: &str| -> Option<String> {
        let v: Vec<&str> = pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!v.is_empty()).then(|| v.join(","))
    };
    let query = AgreementQuery {
        coders: get("coders").or_else(|| ticked("coder")),
        unit: get("unit"),
        documents: get("documents").or_else(|| ticked("document")),
        codes: get("codes").or_else(|| ticked("code")),
        rollup: get("rollup"),
        bootstrap: get("bootstrap"),
        seed: get("seed"),
    };
    let may_compare = rules::may_compare(&access).is_ok();
    let asked = query.coders.is_some();
    let (report, error) = match (may_compare && asked).then(|| query.parse()) {
        None => (None, None),
        Some(Err(e)) => (None, Some(e.to_string())),
        Some(Ok(req)) => match rules::report(db, &access, &req).await {
            Ok(r) => (Some(r), None),
            Err(service::Error::Invalid(e)) => (None, Some(e.message)),
            Err(e) => return Err(e.into()),
        },
    };
    let members = store::members::list(db, access.id()).await?;
    let listed = |raw: &Option<String>| -> Vec<String> {
        raw.as_deref()
            .unwrap_or("")
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let (chosen_docs, chosen_codes) = (listed(&query.documents), listed(&query.codes));
    let documents: Vec<Choice> = store::agreement::documents(db, access.id(), None)
        .await?
        .into_iter()
        .map(|d| Choice {
            selected: chosen_docs.contains(&d.id.to_string()),
            value: d.id.to_string(),
            label: d.title,
        })
        .collect();
    let codes: Vec<Choice> = store::codes::outline(db, access.id())
        .await?
        .into_iter()
        .map(|c| Choice {
            selected: chosen_codes.contains(&c.id.to_string()),
            value: c.id.to_string(),
            label: c.path,
        })
        .collect();
    let chosen: Vec<String> = query
        .coders
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    let unit = report.as_ref().map_or(Unit::Word, |r| r.unit);
    let mut rows = Vec::new();
    let mut pair_names = Vec::new();
    if let Some(r) = &report {
        rows = r
            .codes
            .iter()
            .map(|c| row_view(Some(&c.code), &c.figures))
            .collect();
        rows.push(row_view(None, &r.pooled));
        pair_names = crate::domain::agreement::pairs(r.coders.len())
            .map(|(a, b)| format!("{} – {}", r.coders[a].name, r.coders[b].name))
            .collect();
    }
    Ok(ReportPage {
        tab: "agreement",
        documents_chosen: chosen_docs.len(),
        codes_chosen: chosen_codes.len(),
        documents,
        codes,
        coders: members
            .iter()
            .filter(|m| m.role != crate::domain::project::Role::Viewer)
            .map(|m| CoderChoice {
                id: m.user_id,
                name: m.name.clone(),
                checked: chosen.contains(&m.user_id.to_string()),
            })
            .collect(),
        units: Unit::ALL
            .iter()
            .map(|u| {
                let label = match u {
                    Unit::Character => "Characters",
                    Unit::Word => "Words",
                    Unit::Turn => "Participants' turns",
                };
                (u.as_str(), label, *u == unit)
            })
            .collect(),
        rollup: report.as_ref().is_some_and(|r| r.rollup),
        bootstrap: report
            .as_ref()
            .map_or(rules::DEFAULT_BOOTSTRAP, |r| r.bootstrap),
        seed: report
            .as_ref()
            .map_or_else(String::new, |r| r.seed.to_string()),
        query: report
            .as_ref()
            .map(|r| query_of(r, &query))
            .unwrap_or_default(),
        pair: report
            .as_ref()
            .filter(|r| r.coders.len() == 2)
            .map(|r| format!("{},{}", r.coders[0].id, r.coders[1].id)),
        decisions: if may_compare {
            rules::decisions(db, &access, 50).await?
        } else {
            Vec::new()
        },
        may_adjudicate: rules::may_adjudicate(&access).is_ok(),
        is_owner: access.is_owner(),
        may_compare,
        adjudicators: members
            .iter()
            .filter(|m| {
                m.role != crate::domain::project::Role::Viewer
                    && Some(m.user_id) != access.project.settings.consensus
            })
            .map(|m| {
                let chosen = Some(m.user_id) == access.project.settings.adjudicator;
                (m.user_id, m.name.clone(), chosen)
            })
            .collect(),
        error,
        rows,
        pair_names,
        report,
        project: access.project.clone(),
        chrome,
    })
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    blind: Option<String>,
    adjudicator: Option<String>,
}

async fn save_settings(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    session: Session,
    Form(form): Form<SettingsForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/agreement", access.id());
    let adjudicator = match form.adjudicator.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => match raw.parse::<UserId>() {
            Ok(id) => Some(id),
            Err(_) => {
                let err = service::Error::invalid("adjudicator", "choose a member");
                return back_with(&session, &back, err).await;
            }
        },
    };
    let blind = form.blind.is_some();
    match rules::set_settings(&state.db, &access, Some(blind), Some(adjudicator)).await {
        Ok(_) => {
            let said = if blind {
                "Blind coding is on: coders and viewers see only their own codings."
            } else {
                "Blind coding is off: everyone sees every coder's codings."
            };
            done(&session, &back, said).await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

#[derive(Debug, Deserialize)]
struct CompareQuery {
    document: Option<DocumentId>,
    code: Option<CodeId>,
    coders: Option<String>,
}

/// A piece of the transcript: plain, or coded by A, B or both, with the
/// stretch it belongs to (for the anchors).
struct Piece {
    text: String,
    side: Option<&'static str>,
}

struct StretchView {
    n: usize,
    start: usize,
    end: usize,
    agreed: bool,
    kind: &'static str,
    excerpt: String,
    decided: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "agreement/compare.html")]
struct ComparePage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    cmp: Comparison,
    pieces: Vec<Piece>,
    stretches: Vec<StretchView>,
    documents: Vec<store::agreement::Measured>,
    codes: Vec<store::codes::Code>,
    coders: String,
    may_adjudicate: bool,
    disagreements: usize,
}

fn side_class(side: Side) -> &'static str {
    match side {
        Side::OnlyA => "only-a",
        Side::OnlyB => "only-b",
        Side::Both => "both",
    }
}

/// The text cut at the pieces' edges.
fn pieces(text: &str, sides: &[(usize, usize, Side)]) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let take = |s: usize, e: usize| {
        chars[s.min(chars.len())..e.min(chars.len())]
            .iter()
            .collect()
    };
    let mut out = Vec::new();
    let mut at = 0;
    for &(s, e, side) in sides {
        if s > at {
            out.push(Piece {
                text: take(at, s),
                side: None,
            });
        }
        out.push(Piece {
            text: take(s, e),
            side: Some(side_class(side)),
        });
        at = e;
    }
    if at < chars.len() {
        out.push(Piece {
            text: take(at, chars.len()),
            side: None,
        });
    }
    out
}

fn stretch_views(cmp: &Comparison) -> Vec<StretchView> {
    let chars: Vec<char> = cmp.text.chars().collect();
    cmp.stretches
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let text: String = chars[s.start.min(chars.len())..s.end.min(chars.len())]
                .iter()
                .collect();
            let excerpt = if text.chars().count() > 240 {
                format!("{}…", text.chars().take(240).collect::<String>())
            } else {
                text
            };
            StretchView {
                n: i + 1,
                start: s.start,
                end: s.end,
                agreed: s.agreed(),
                kind: match (s.agreed(), s.a.is_empty(), s.b.is_empty()) {
                    (true, _, _) => "Agreed",
                    (false, false, true) => "Only A",
                    (false, true, false) => "Only B",
                    _ => "Different extents",
                },
                excerpt,
                decided: cmp
                    .decisions
                    .iter()
                    .find(|d| d.start as usize == s.start && d.end as usize == s.end)
                    .map(|d| {
                        format!(
                            "{} by {}",
                            d.decision.replace('_', " "),
                            d.decided_by_name.as_deref().unwrap_or("someone")
                        )
                    }),
            }
        })
        .collect()
}

async fn compare_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
    Query(q): Query<CompareQuery>,
) -> Result<ComparePage> {
    let db = &state.db;
    let coders = rules::ids::<UserId>("coders", q.coders.as_deref())?.unwrap_or_default();
    let [a, b] = coders[..] else {
        return Err(
            service::Error::invalid("coders", "choose two coders on the agreement page").into(),
        );
    };
    let documents = store::agreement::documents(db, access.id(), None).await?;
    let codes = store::codes::outline(db, access.id()).await?;
    let document = q
        .document
        .or_else(|| documents.first().map(|d| d.id))
        .ok_or(service::Error::NotFound)?;
    let code = q
        .code
        .or_else(|| codes.first().map(|c| c.id))
        .ok_or(service::Error::NotFound)?;
    let pairing = Pairing {
        document,
        code,
        a,
        b,
    };
    let cmp = rules::compare(db, &access, &pairing).await?;
    Ok(ComparePage {
        tab: "agreement",
        pieces: pieces(&cmp.text, &cmp.sides),
        stretches: stretch_views(&cmp),
        disagreements: cmp.disagreements().count(),
        coders: format!("{a},{b}"),
        may_adjudicate: rules::may_adjudicate(&access).is_ok(),
        project: access.project.clone(),
        documents,
        codes,
        cmp,
        chrome,
    })
}

#[derive(Debug, Deserialize)]
struct DecideForm {
    document: DocumentId,
    code: CodeId,
    a: UserId,
    b: UserId,
    start: usize,
    end: usize,
    decision: String,
    /// The stretch to show next.
    next: Option<usize>,
}

fn compare_url(
    project: ProjectId,
    document: DocumentId,
    code: CodeId,
    a: UserId,
    b: UserId,
) -> String {
    format!(
        "/projects/{project}/agreement/compare?document={document}&code={code}&coders={}",
        encode_query(&format!("{a},{b}"))
    )
}

async fn decide(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Form(f): Form<DecideForm>,
) -> Result<Redirect> {
    let mut back = compare_url(access.id(), f.document, f.code, f.a, f.b);
    let Some(decision) = Decision::parse(&f.decision) else {
        let err = service::Error::invalid("decision", "choose keep A, keep B, keep both or drop");
        return back_with(&session, &back, err).await;
    };
    let ruling = Ruling {
        pairing: Pairing {
            document: f.document,
            code: f.code,
            a: f.a,
            b: f.b,
        },
        start: f.start,
        end: f.end,
        decision,
    };
    match rules::adjudicate(&state.db, &access, &ruling).await {
        Ok(s) => {
            if let Some(n) = f.next {
                back.push_str(&format!("#s{n}"));
            }
            let said = format!(
                "Decided ({}): the consensus set has {} here.",
                decision.as_str().replace('_', " "),
                plural(s.written, "coding", "codings")
            );
            done(&session, &back, said).await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

#[derive(Debug, Deserialize)]
struct AgreedForm {
    a: UserId,
    b: UserId,
    document: Option<DocumentId>,
    code: Option<CodeId>,
}

async fn accept_agreed(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Form(f): Form<AgreedForm>,
) -> Result<Redirect> {
    let back = match (f.document, f.code) {
        (Some(d), Some(c)) => compare_url(access.id(), d, c, f.a, f.b),
        _ => format!(
            "/projects/{}/agreement?coders={}",
            access.id(),
            encode_query(&format!("{},{}", f.a, f.b))
        ),
    };
    let documents = f.document.map(|d| vec![d]);
    let codes = f.code.map(|c| vec![c]);
    match rules::accept_agreed(
        &state.db,
        &access,
        (f.a, f.b),
        documents.as_deref(),
        codes.as_deref(),
    )
    .await
    {
        Ok(s) => {
            let said = format!(
                "{} the two coders coded alike went into the consensus set.",
                plural(s.decided, "stretch", "stretches")
            );
            done(&session, &back, said).await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}
