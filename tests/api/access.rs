//! The access-control matrix: every route the router serves (read from the
//! router itself), for anonymous visitors, a signed-in outsider, a viewer,
//! a coder and an owner, on the project's own objects and on objects of
//! another project. A route the router serves without an entry here fails
//! the test, so a new route cannot ship unclassified.

use crate::helpers::TestApp;
use parley::app::AppState;
use parley::config::ServerConfig;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Anyone, signed in or not.
    Public,
    /// Anyone signed in.
    SignedIn,
    /// The signed-in user's own API token.
    OwnToken,
    /// Any member of the project.
    Member,
    Coder,
    Owner,
    /// A coder who made the coding, or an owner (the coding is the owner's).
    AuthorOrOwner,
    /// The member themselves (the viewer), or an owner.
    SelfOrOwner,
    /// Administrators only (none of the roles here is one; their own test
    /// is in `users.rs`).
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Anonymous,
    Outsider,
    Viewer,
    Coder,
    Owner,
}

const ROLES: [Role; 5] = [
    Role::Anonymous,
    Role::Outsider,
    Role::Viewer,
    Role::Coder,
    Role::Owner,
];

/// What a request carries.
enum Body {
    Empty,
    Json(Value),
    Form(Vec<(&'static str, String)>),
    Csv(&'static str),
    File(&'static str, Vec<u8>),
    Query(Vec<(&'static str, String)>),
}

/// The ids a route's path and body are filled from.
#[derive(Debug, Clone, Copy)]
struct Ids {
    project: i64,
    document: i64,
    code: i64,
    /// A second code (a merge target).
    code2: i64,
    /// A code in the trash (to restore).
    trashed: i64,
    coding: i64,
    participant: i64,
    group: i64,
    /// A member who is neither owner nor the acting user: the viewer.
    member: i64,
    /// The owner, who made `coding`.
    owner: i64,
    survey: i64,
    scale: i64,
    token: i64,
    /// A batch of "code all hits" by the owner.
    batch: i64,
    /// A document in the trash (to restore).
    trashed_document: i64,
}

struct Case {
    method: Method,
    path: &'static str,
    level: Level,
    body: fn(&Ids) -> Body,
}

fn none(_: &Ids) -> Body {
    Body::Empty
}

/// A two-wave survey of two items.
const SURVEY: &str = "id,wave,locality,q1,q2\nR1,2002,North,3,4\nR2,2002,South,2,2\nR3,2002,North,4,5\nR1,2004,North,4,4\nR2,2004,South,3,2\nR3,2004,South,5,4\n";

/// The owner and the viewer compared.
fn agreement_of_two(w: &Ids) -> Body {
    Body::Query(vec![
        ("coders", format!("{},{}", w.owner, w.member)),
        ("bootstrap", "20".into()),
    ])
}

fn searched(_: &Ids) -> Body {
    Body::Query(vec![("q", "waiting".into()), ("speakers", "all".into())])
}

fn code_all_hits(w: &Ids) -> Body {
    Body::Json(json!({"q": "waiting", "speakers": "all", "code_id": w.code2, "dry_run": true}))
}

fn code_hits_form(w: &Ids) -> Body {
    Body::Form(vec![
        ("q", "waiting".into()),
        ("speakers", "all".into()),
        ("code_id", w.code2.to_string()),
    ])
}

fn joint_query(w: &Ids) -> Body {
    Body::Query(vec![("scale", w.scale.to_string())])
}

fn compared(w: &Ids) -> Body {
    Body::Query(vec![
        ("coders", format!("{},{}", w.owner, w.member)),
        ("document", w.document.to_string()),
        ("code", w.code.to_string()),
    ])
}

fn case(method: Method, path: &'static str, level: Level, body: fn(&Ids) -> Body) -> Case {
    Case {
        method,
        path,
        level,
        body,
    }
}

/// Every route and method, with who may use it.
fn cases() -> Vec<Case> {
    use Level::*;
    let (get, post, patch, put, delete) = (
        Method::GET,
        Method::POST,
        Method::PATCH,
        Method::PUT,
        Method::DELETE,
    );
    vec![
        // Pages without a project.
        case(get.clone(), "/", Public, none),
        case(get.clone(), "/healthz", Public, none),
        case(get.clone(), "/login", Public, none),
        case(post.clone(), "/login", Public, |_| {
            Body::Form(vec![
                ("email", "nobody@example.org".into()),
                ("password", "wrong".into()),
            ])
        }),
        case(get.clone(), "/setup", Public, none),
        case(post.clone(), "/setup", Public, none),
        case(post.clone(), "/logout", Public, none),
        case(get.clone(), "/account", SignedIn, none),
        case(get.clone(), "/admin/users", Admin, none),
        case(post.clone(), "/admin/users", Admin, |_| {
            Body::Form(vec![
                ("email", "new@example.org".into()),
                ("name", "New".into()),
            ])
        }),
        case(post.clone(), "/admin/users/{user_id}/disable", Admin, none),
        case(post.clone(), "/admin/users/{user_id}/enable", Admin, none),
        case(post.clone(), "/admin/users/{user_id}/link", Admin, none),
        case(get.clone(), "/set-password/{secret}", Public, none),
        case(post.clone(), "/set-password/{secret}", Public, |_| {
            Body::Form(vec![
                ("password", "a long enough one".into()),
                ("password_again", "a long enough one".into()),
            ])
        }),
        case(get.clone(), "/api/v1/users", Admin, none),
        case(post.clone(), "/api/v1/users", Admin, |_| {
            Body::Json(json!({"email": "new@example.org", "name": "New"}))
        }),
        case(patch.clone(), "/api/v1/users/{user_id}", Admin, |_| {
            Body::Json(json!({"disabled": true}))
        }),
        case(
            post.clone(),
            "/api/v1/users/{user_id}/password-link",
            Admin,
            none,
        ),
        case(post.clone(), "/account/password", SignedIn, none),
        case(post.clone(), "/account/tokens", SignedIn, |_| {
            Body::Form(vec![("name", "script".into())])
        }),
        case(
            post.clone(),
            "/account/tokens/{token_id}/revoke",
            OwnToken,
            none,
        ),
        case(get.clone(), "/projects", SignedIn, none),
        case(post.clone(), "/projects", SignedIn, |_| {
            Body::Form(vec![("name", "Another study".into())])
        }),
        case(post.clone(), "/projects/import", SignedIn, |_| {
            Body::File("project.qdpx", b"not a zip".to_vec())
        }),
        // Project pages.
        case(get.clone(), "/projects/{project_id}", Member, none),
        case(get.clone(), "/projects/{project_id}/settings", Coder, none),
        case(
            post.clone(),
            "/projects/{project_id}/settings",
            Coder,
            |_| {
                Body::Form(vec![
                    ("name", "Renamed".into()),
                    ("description", String::new()),
                ])
            },
        ),
        case(post.clone(), "/projects/{project_id}/delete", Owner, |_| {
            Body::Form(vec![("confirm", "Study".into())])
        }),
        case(
            post.clone(),
            "/projects/{project_id}/members",
            Owner,
            |_| {
                Body::Form(vec![
                    ("email", "nobody@example.org".into()),
                    ("role", "viewer".into()),
                ])
            },
        ),
        case(
            post.clone(),
            "/projects/{project_id}/members/{user_id}/role",
            Owner,
            |_| Body::Form(vec![("role", "coder".into())]),
        ),
        case(
            post.clone(),
            "/projects/{project_id}/members/{user_id}/remove",
            SelfOrOwner,
            none,
        ),
        case(
            get.clone(),
            "/projects/{project_id}/documents",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/documents",
            Coder,
            |_| Body::File("new.txt", b"Interviewer: Hello?\nP01: Hello.".to_vec()),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/documents/{document_id}",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/projects/{project_id}/documents/{document_id}/edit",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/documents/{document_id}/edit",
            Coder,
            |_| {
                Body::Form(vec![
                    ("title", "Renamed".into()),
                    ("kind", "interview".into()),
                ])
            },
        ),
        case(
            get.clone(),
            "/projects/{project_id}/documents/{document_id}/delete",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/documents/{document_id}/delete",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/documents/{document_id}/memo",
            Coder,
            |_| Body::Form(vec![("memo", "A note".into())]),
        ),
        case(
            post.clone(),
            "/projects/{project_id}/documents/{document_id}/speakers",
            Coder,
            |_| Body::Form(vec![("role:P01", "unassigned".into())]),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/participants",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/participants",
            Coder,
            |_| Body::Form(vec![("label", "P77".into())]),
        ),
        case(
            post.clone(),
            "/projects/{project_id}/participants/import",
            Coder,
            |_| Body::File("people.csv", b"label,group\nP88,Staff\n".to_vec()),
        ),
        case(
            post.clone(),
            "/projects/{project_id}/participants/import/confirm",
            Coder,
            |_| Body::Form(vec![("csv", "label,group\nP89,Staff\n".into())]),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/participants/{participant_id}/edit",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/participants/{participant_id}/edit",
            Coder,
            |_| Body::Form(vec![("label", "P02".into())]),
        ),
        case(
            post.clone(),
            "/projects/{project_id}/participants/{participant_id}/delete",
            Coder,
            none,
        ),
        case(post.clone(), "/projects/{project_id}/groups", Coder, |_| {
            Body::Form(vec![("name", "Volunteers".into())])
        }),
        case(
            post.clone(),
            "/projects/{project_id}/groups/{group_id}",
            Coder,
            |_| Body::Form(vec![("name", "Staff members".into())]),
        ),
        case(get.clone(), "/projects/{project_id}/codes", Member, none),
        case(post.clone(), "/projects/{project_id}/codes", Coder, |_| {
            Body::Form(vec![("name", "Waiting".into())])
        }),
        case(
            post.clone(),
            "/projects/{project_id}/codes/import",
            Coder,
            |_| Body::File("codes.csv", b"name\nHousing\n".to_vec()),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/codes/trash",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/codes/trash/empty",
            Owner,
            none,
        ),
        case(
            get.clone(),
            "/projects/{project_id}/codes/{code_id}",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/codes/{code_id}",
            Coder,
            |_| Body::Form(vec![("name", "Trust (renamed)".into())]),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/codes/{code_id}/delete",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/codes/{code_id}/delete",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/codes/{code_id}/merge",
            Coder,
            |w| Body::Form(vec![("into", w.code2.to_string())]),
        ),
        case(
            post.clone(),
            "/projects/{project_id}/codes/{code_id}/move",
            Coder,
            |_| Body::Form(vec![("parent", String::new())]),
        ),
        case(
            post.clone(),
            "/projects/{project_id}/codes/{code_id}/restore",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/codings/{coding_id}/star",
            Coder,
            |_| Body::Form(vec![("starred", "true".into())]),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/search",
            Member,
            searched,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/search/code",
            Coder,
            code_hits_form,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/search/batches/{batch_id}/undo",
            AuthorOrOwner,
            |_| Body::Form(vec![("q", "list".into())]),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/documents/trash",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/documents/trash/empty",
            Owner,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/documents/{document_id}/restore",
            Coder,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/documents/trash",
            Member,
            none,
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/documents/trash",
            Owner,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/documents/{document_id}/restore",
            Coder,
            none,
        ),
        case(get.clone(), "/projects/{project_id}/memos", Member, none),
        case(post.clone(), "/projects/{project_id}/memo", Coder, |_| {
            Body::Form(vec![("memo", "Project note".into())])
        }),
        case(get.clone(), "/projects/{project_id}/matrix", Member, none),
        case(
            get.clone(),
            "/projects/{project_id}/agreement",
            Member,
            none,
        ),
        case(get.clone(), "/projects/{project_id}/surveys", Member, none),
        case(
            post.clone(),
            "/projects/{project_id}/surveys/check",
            Coder,
            |_| Body::File("staff.csv", SURVEY.as_bytes().to_vec()),
        ),
        case(
            post.clone(),
            "/projects/{project_id}/surveys/import",
            Coder,
            |_| {
                Body::Form(vec![
                    ("name", "Again".into()),
                    ("csv", SURVEY.into()),
                    ("kind_1", "wave".into()),
                ])
            },
        ),
        case(
            get.clone(),
            "/projects/{project_id}/surveys/{survey_id}",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/surveys/{survey_id}/delete",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/surveys/{survey_id}/scales",
            Coder,
            |_| {
                Body::Form(vec![
                    ("name", "Pair".into()),
                    ("item", "q1".into()),
                    ("item", "q2".into()),
                    ("min", "1".into()),
                    ("max", "5".into()),
                ])
            },
        ),
        case(
            get.clone(),
            "/projects/{project_id}/surveys/{survey_id}/compare",
            Member,
            |w| Body::Query(vec![("scale", w.scale.to_string())]),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/agreement/compare",
            Member,
            compared,
        ),
        // The gate is a coder's; the use case then asks for an owner or the
        // adjudicator (tested in tests/api/agreement.rs).
        case(
            post.clone(),
            "/projects/{project_id}/agreement/decide",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/agreement/agreed",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/projects/{project_id}/agreement/settings",
            Owner,
            |_| Body::Form(vec![("adjudicator", "".into())]),
        ),
        case(
            get.clone(),
            "/projects/{project_id}/matrix/cooccurrence",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/projects/{project_id}/theme-table",
            Member,
            none,
        ),
        // The API.
        case(get.clone(), "/api/v1/me", SignedIn, none),
        case(get.clone(), "/api/v1/projects", SignedIn, none),
        case(post.clone(), "/api/v1/projects", SignedIn, |_| {
            Body::Json(json!({"name": "Another study"}))
        }),
        case(post.clone(), "/api/v1/projects/import", SignedIn, |_| {
            Body::File("project.qdpx", b"not a zip".to_vec())
        }),
        case(get.clone(), "/api/v1/projects/{project_id}", Member, none),
        case(
            patch.clone(),
            "/api/v1/projects/{project_id}",
            Coder,
            |_| Body::Json(json!({"description": "Changed"})),
        ),
        case(delete.clone(), "/api/v1/projects/{project_id}", Owner, none),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/members",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/members",
            Owner,
            |_| Body::Json(json!({"email": "nobody@example.org", "role": "viewer"})),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/members/{user_id}",
            Member,
            none,
        ),
        case(
            patch.clone(),
            "/api/v1/projects/{project_id}/members/{user_id}",
            Owner,
            |_| Body::Json(json!({"role": "coder"})),
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/members/{user_id}",
            SelfOrOwner,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/documents",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/documents",
            Coder,
            |_| Body::Json(json!({"title": "New", "text": "Interviewer: Hi?\nP01: Hi."})),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/documents/{document_id}",
            Member,
            none,
        ),
        case(
            patch.clone(),
            "/api/v1/projects/{project_id}/documents/{document_id}",
            Coder,
            |_| Body::Json(json!({"title": "Renamed"})),
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/documents/{document_id}",
            Coder,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/documents/{document_id}/codings",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/search",
            Member,
            searched,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/search/code",
            Coder,
            code_all_hits,
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/search/batches/{batch_id}",
            AuthorOrOwner,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/documents/{document_id}/memo",
            Member,
            none,
        ),
        case(
            put.clone(),
            "/api/v1/projects/{project_id}/documents/{document_id}/memo",
            Coder,
            |_| Body::Json(json!({"memo": "A note"})),
        ),
        case(
            put.clone(),
            "/api/v1/projects/{project_id}/documents/{document_id}/speakers",
            Coder,
            |_| Body::Json(json!({"speakers": []})),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/participants",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/participants",
            Coder,
            |_| Body::Json(json!({"label": "P77"})),
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/participants/import",
            Coder,
            |_| Body::Csv("label,group\nP88,Staff\n"),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/participants/{participant_id}",
            Member,
            none,
        ),
        case(
            patch.clone(),
            "/api/v1/projects/{project_id}/participants/{participant_id}",
            Coder,
            |_| Body::Json(json!({"label": "P02"})),
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/participants/{participant_id}",
            Coder,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/groups",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/groups",
            Coder,
            |_| Body::Json(json!({"name": "Volunteers"})),
        ),
        case(
            patch.clone(),
            "/api/v1/projects/{project_id}/groups/{group_id}",
            Coder,
            |_| Body::Json(json!({"name": "Staff members"})),
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/groups/{group_id}",
            Coder,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/codes",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/codes",
            Coder,
            |_| Body::Json(json!({"name": "Waiting"})),
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/codes/import",
            Coder,
            |_| Body::Csv("name\nHousing\n"),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/codes/trash",
            Member,
            none,
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/codes/trash",
            Owner,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/codes/{code_id}",
            Member,
            none,
        ),
        case(
            patch.clone(),
            "/api/v1/projects/{project_id}/codes/{code_id}",
            Coder,
            |_| Body::Json(json!({"definition": "Changed", "version": 1})),
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/codes/{code_id}",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/codes/{code_id}/merge",
            Coder,
            |w| Body::Json(json!({"into": w.code2})),
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/codes/{code_id}/restore",
            Coder,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/codings",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/codings",
            Coder,
            |w| {
                Body::Json(json!({
                    "document_id": w.document, "code_id": w.code2, "start": 0, "end": 11
                }))
            },
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/codings/{coding_id}",
            Member,
            none,
        ),
        case(
            patch.clone(),
            "/api/v1/projects/{project_id}/codings/{coding_id}",
            AuthorOrOwner,
            |_| Body::Json(json!({"memo": "Changed"})),
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/codings/{coding_id}",
            AuthorOrOwner,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/memo",
            Member,
            none,
        ),
        case(
            put.clone(),
            "/api/v1/projects/{project_id}/memo",
            Coder,
            |_| Body::Json(json!({"memo": "Project note"})),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/memos",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/matrix",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/codebook.csv",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/codebook.qdc",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/project.qdpx",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/excerpts.csv",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/excerpts.xlsx",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/theme-table.csv",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/agreement",
            Member,
            agreement_of_two,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/agreement/compare",
            Member,
            compared,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/agreement.csv",
            Member,
            agreement_of_two,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/agreement.xlsx",
            Member,
            agreement_of_two,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/adjudications",
            Member,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/adjudications",
            Coder,
            |_| Body::Json(json!({})),
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/adjudications/agreed",
            Coder,
            |_| Body::Json(json!({})),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/settings",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/surveys",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/joint-display",
            Member,
            joint_query,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/code-report.docx",
            Member,
            |w| Body::Query(vec![("code_id", w.code.to_string())]),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/cooccurrence.csv",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/memos.docx",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/cooccurrence.xlsx",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/projects/{project_id}/codes/{code_id}/report",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/joint-display.csv",
            Member,
            joint_query,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/joint-display.xlsx",
            Member,
            joint_query,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/joint-display.docx",
            Member,
            joint_query,
        ),
        case(
            get.clone(),
            "/projects/{project_id}/joint-display",
            Member,
            joint_query,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/surveys",
            Coder,
            |_| Body::File("staff.csv", SURVEY.as_bytes().to_vec()),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/surveys/{survey_id}",
            Member,
            none,
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/surveys/{survey_id}",
            Coder,
            none,
        ),
        case(
            post.clone(),
            "/api/v1/projects/{project_id}/surveys/{survey_id}/scales",
            Coder,
            |_| Body::Json(json!({"name": "Both", "items": ["q1", "q2"], "min": 1, "max": 5})),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/surveys/{survey_id}/scales/{scale_id}",
            Member,
            none,
        ),
        case(
            delete.clone(),
            "/api/v1/projects/{project_id}/surveys/{survey_id}/scales/{scale_id}",
            Coder,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/surveys/{survey_id}/compare",
            Member,
            |w| Body::Query(vec![("scale", w.scale.to_string())]),
        ),
        case(
            put.clone(),
            "/api/v1/projects/{project_id}/settings",
            Owner,
            |_| Body::Json(json!({"blind": false})),
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/theme-table.docx",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/theme-table.html",
            Member,
            none,
        ),
        case(
            get.clone(),
            "/api/v1/projects/{project_id}/exports/theme-table.xlsx",
            Member,
            none,
        ),
    ]
}

/// `(method, path)` of every route the router serves (HEAD comes with GET
/// and is left out; so are the static files and the fallback), read from
/// the router's own description of itself.
fn served() -> BTreeSet<(String, String)> {
    let db = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").expect("a lazy pool");
    let router = parley::router::router(AppState {
        db,
        config: Arc::new(ServerConfig::default()),
        heavy: Arc::new(parley::http::heavy::Gate::new(4)),
        attributions: Arc::default(),
        askers: Arc::default(),
        texts: Arc::default(),
    });
    let text = format!("{router:?}");
    // The fallback router numbers its routes afresh: read only the paths.
    let text = text.split("fallback_router:").next().unwrap_or_default();
    // `RouteId(7): MethodRouter(MethodRouter { get: Route, head: None, … })`
    // and, elsewhere, `RouteId(7): "/projects/{project_id}"`.
    let mut methods: std::collections::HashMap<String, Vec<String>> = Default::default();
    for chunk in text.split("RouteId(").skip(1) {
        let Some((id, rest)) = chunk.split_once("): ") else {
            continue;
        };
        if let Some(fields) = rest.strip_prefix("MethodRouter(MethodRouter { ") {
            let fields = fields.split(", fallback").next().unwrap_or_default();
            let mut these = Vec::new();
            for field in fields.split(", ") {
                if let Some((name, value)) = field.split_once(": ")
                    && value != "None"
                    && !matches!(name, "head" | "options" | "trace" | "connect")
                {
                    these.push(name.to_uppercase());
                }
            }
            methods.insert(id.to_owned(), these);
        }
    }
    let mut out = BTreeSet::new();
    for chunk in text.split("RouteId(").skip(1) {
        let Some((id, rest)) = chunk.split_once("): \"") else {
            continue;
        };
        let path = rest.split('"').next().unwrap_or_default();
        if path.starts_with("/static") || path.contains("__private__axum_fallback") {
            continue;
        }
        for m in methods.get(id).into_iter().flatten() {
            out.insert((m.clone(), path.to_owned()));
        }
    }
    out
}

#[tokio::test]
async fn every_route_has_an_access_rule() {
    let served = served();
    assert!(
        served.len() > 100,
        "the router's description could not be read ({} routes found); \
         has axum's Debug output changed?",
        served.len()
    );
    let listed: BTreeSet<(String, String)> = cases()
        .iter()
        .map(|c| (c.method.to_string(), c.path.to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes without an access rule in tests/api/access.rs: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rules for routes that do not exist: {stale:?}"
    );
}

/// What a request should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Pages send anonymous visitors to the login form.
    Login,
    Unauthorized,
    Forbidden,
    NotFound,
    /// Through the gate: 2xx or 3xx, or a 4xx about the input itself.
    Allowed,
    /// Public routes: any answer but a server error, 403 or 404 (a login
    /// with a wrong password is a 401; the home page redirects).
    Answered,
}

fn expect(level: Level, role: Role, api: bool, foreign: bool) -> Expect {
    use Expect::*;
    let gate = match role {
        _ if level == Level::Public => return Answered,
        Role::Anonymous => return if api { Unauthorized } else { Login },
        _ if level == Level::Admin => return Forbidden,
        Role::Outsider => match level {
            Level::SignedIn => return Allowed,
            Level::OwnToken => return NotFound,
            _ => return NotFound,
        },
        r => r,
    };
    let found = if foreign { NotFound } else { Allowed };
    match level {
        Level::Public => Answered,
        Level::SignedIn => Allowed,
        // The token is the owner's.
        Level::OwnToken => {
            if gate == Role::Owner {
                found
            } else {
                NotFound
            }
        }
        Level::Member => found,
        Level::Coder if gate >= Role::Coder => found,
        Level::Owner if gate == Role::Owner => found,
        Level::Coder | Level::Owner => Forbidden,
        // The coding is the owner's: a coder who did not make it is told no.
        Level::AuthorOrOwner => match gate {
            Role::Owner => found,
            Role::Coder => {
                if foreign {
                    NotFound
                } else {
                    Forbidden
                }
            }
            _ => Forbidden,
        },
        Level::Admin => Forbidden,
        // The target member is the viewer.
        Level::SelfOrOwner => match gate {
            Role::Owner => found,
            Role::Viewer if !foreign => Allowed,
            Role::Viewer => NotFound,
            // A coder may only remove themselves: no look-up needed to say no.
            _ => Forbidden,
        },
    }
}

/// Requests that end the session they are sent with.
const ENDS_SESSION: [(&str, &str); 2] = [("POST", "/login"), ("POST", "/logout")];

struct People {
    clients: Vec<(Role, Client)>,
    owner_email: String,
}

/// A project owned by `owner` (cookie client), with the viewer and coder
/// as members, and one of everything.
async fn world(
    app: &TestApp,
    owner: &Client,
    viewer: &str,
    coder: Option<&str>,
    token: i64,
) -> Ids {
    let api = |p: &str| app.url(&format!("/api/v1{p}"));
    let post = |p: String, body: Value| {
        let req = owner.post(api(&p)).json(&body);
        async move {
            let res = req.send().await.unwrap();
            assert!(res.status().is_success(), "{p}: {}", res.status());
            res.json::<Value>().await.unwrap()
        }
    };
    let id = |v: &Value| v["id"].as_i64().expect("an id");
    let project = id(&post("/projects".into(), json!({"name": "Study"})).await);
    let member = |email: &str, role: &str| {
        post(
            format!("/projects/{project}/members"),
            json!({"email": email, "role": role}),
        )
    };
    let viewer_id = member(viewer, "viewer").await["user_id"]
        .as_i64()
        .expect("the member's user id");
    if let Some(coder) = coder {
        member(coder, "coder").await;
    }
    let document = id(&post(
        format!("/projects/{project}/documents"),
        json!({"title": "Interview 1", "text": "Interviewer: How was it?\nP01: The waiting list was long."}),
    )
    .await);
    let code = id(&post(
        format!("/projects/{project}/codes"),
        json!({"name": "Trust"}),
    )
    .await);
    let code2 = id(&post(
        format!("/projects/{project}/codes"),
        json!({"name": "Access"}),
    )
    .await);
    let trashed = id(&post(format!("/projects/{project}/codes"), json!({"name": "Old"})).await);
    let trashed_document = id(&post(
        format!("/projects/{project}/documents"),
        json!({"title": "Deleted", "text": "P01: Gone for now."}),
    )
    .await);
    let res = owner
        .delete(api(&format!(
            "/projects/{project}/documents/{trashed_document}"
        )))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "trash: {}", res.status());
    let batch = post(
        format!("/projects/{project}/search/code"),
        json!({"q": "list", "speakers": "all", "code_id": code, "extent": "sentence"}),
    )
    .await["batch"]
        .as_i64()
        .expect("a batch");
    let res = owner
        .delete(api(&format!("/projects/{project}/codes/{trashed}")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "trash: {}", res.status());
    let made = post(
        format!("/projects/{project}/codings"),
        json!({"document_id": document, "code_id": code, "start": 30, "end": 46}),
    )
    .await;
    let coding = id(&made);
    let owner_id = made["coder"].as_i64().expect("the coder");
    let groups = owner
        .get(api(&format!("/projects/{project}/groups")))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let group = groups["items"][0]["id"].as_i64().expect("a default group");
    let participant = id(&post(
        format!("/projects/{project}/participants"),
        json!({"label": "P01", "group": "Staff"}),
    )
    .await);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(SURVEY.as_bytes().to_vec()).file_name("staff.csv"),
    );
    let res = owner
        .post(api(&format!("/projects/{project}/surveys")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "survey");
    let survey = res.json::<Value>().await.unwrap()["survey"]["id"]
        .as_i64()
        .expect("a survey");
    let scale = id(&post(
        format!("/projects/{project}/surveys/{survey}/scales"),
        json!({"name": "Role clarity", "items": ["q1", "q2"], "min": 1, "max": 5}),
    )
    .await);
    Ids {
        trashed_document,
        batch,
        survey,
        scale,
        project,
        document,
        code,
        code2,
        trashed,
        coding,
        participant,
        group,
        member: viewer_id,
        owner: owner_id,
        token,
    }
}

fn fill(path: &str, w: &Ids) -> String {
    // Restoring is for codes in the trash.
    let code = if path.ends_with("/restore") {
        w.trashed
    } else {
        w.code
    };
    // Restoring a document is for one in the trash.
    let document = if path.ends_with("{document_id}/restore") {
        w.trashed_document
    } else {
        w.document
    };
    path.replace("{project_id}", &w.project.to_string())
        .replace("{document_id}", &document.to_string())
        .replace("{code_id}", &code.to_string())
        .replace("{coding_id}", &w.coding.to_string())
        .replace("{participant_id}", &w.participant.to_string())
        .replace("{group_id}", &w.group.to_string())
        .replace("{user_id}", &w.member.to_string())
        .replace("{token_id}", &w.token.to_string())
        .replace("{survey_id}", &w.survey.to_string())
        .replace("{scale_id}", &w.scale.to_string())
        .replace("{batch_id}", &w.batch.to_string())
        .replace("{secret}", "no-such-link")
}

async fn send(app: &TestApp, client: &Client, c: &Case, w: &Ids) -> (StatusCode, String) {
    let url = app.url(&fill(c.path, w));
    let req = client.request(c.method.clone(), &url);
    let req = match (c.body)(w) {
        Body::Empty => req,
        Body::Json(v) => req.json(&v),
        Body::Form(pairs) => req.form(&pairs),
        Body::Csv(text) => req.header("content-type", "text/csv").body(text),
        Body::Query(pairs) => req.query(&pairs),
        Body::File(name, bytes) => req.multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        )),
    };
    let res = req.send().await.unwrap();
    let status = res.status();
    assert_security_headers(&res, &url);
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, location)
}

/// Every answer, whatever its status, carries the security headers.
fn assert_security_headers(res: &reqwest::Response, url: &str) {
    let h = res.headers();
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = get("content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{url}: CSP without {directive}: {csp:?}"
        );
    }
    assert!(
        !csp.split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default()
            .contains("unsafe"),
        "{url}: scripts may run inline: {csp}"
    );
    assert_eq!(get("x-content-type-options"), "nosniff", "{url}");
    assert_eq!(get("referrer-policy"), "same-origin", "{url}");
    assert_eq!(get("x-frame-options"), "DENY", "{url}");
}

#[sqlx::test]
async fn static_files_and_unknown_paths_carry_the_security_headers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for path in [
        "/static/app.css",
        "/static/js/coding/main.js",
        "/no/such/page",
        "/api/v1/nothing",
    ] {
        let url = app.url(path);
        let res = reqwest::get(&url).await.unwrap();
        assert!(!res.status().is_server_error(), "{url}");
        assert_security_headers(&res, &url);
    }
    // The session cookie is HttpOnly and SameSite=Lax.
    app.user("ann@example.org", "Ann").await;
    let res = app
        .browser()
        .post(app.url("/login"))
        .form(&[
            ("email", "ann@example.org"),
            ("password", crate::helpers::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.starts_with("parley_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

fn meets(expect: Expect, status: StatusCode, location: &str, method: &Method) -> bool {
    match expect {
        Expect::Login => status == StatusCode::SEE_OTHER && location.starts_with("/login"),
        Expect::Unauthorized => status == StatusCode::UNAUTHORIZED,
        Expect::Forbidden => status == StatusCode::FORBIDDEN,
        Expect::NotFound => status == StatusCode::NOT_FOUND,
        Expect::Answered => {
            !status.is_server_error()
                && status != StatusCode::FORBIDDEN
                && status != StatusCode::NOT_FOUND
        }
        Expect::Allowed => {
            let through = status.is_success()
                || (status.is_redirection() && !location.starts_with("/login"))
                || (*method != Method::GET
                    && matches!(status.as_u16(), 400 | 409 | 413 | 415 | 422 | 429));
            through && status != StatusCode::NOT_FOUND
        }
    }
}

async fn token_of(db: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "select api_token_id from api_token t join app_user u on u.user_id = t.user_id \
         where u.email = $1 order by api_token_id limit 1",
    )
    .bind(email)
    .fetch_one(db)
    .await
    .unwrap()
}

#[sqlx::test]
async fn every_route_lets_in_exactly_who_it_should(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let emails = [
        (Role::Outsider, "outsider@example.org"),
        (Role::Viewer, "viewer@example.org"),
        (Role::Coder, "coder@example.org"),
        (Role::Owner, "owner@example.org"),
    ];
    let mut people = People {
        clients: vec![(Role::Anonymous, app.browser())],
        owner_email: String::new(),
    };
    for (role, email) in emails {
        app.person(email).await;
        people.clients.push((role, app.signed_in(email).await));
        if role == Role::Owner {
            people.owner_email = email.to_owned();
        }
    }
    let client = |role: Role| {
        &people
            .clients
            .iter()
            .find(|(r, _)| *r == role)
            .expect("a client per role")
            .1
    };
    let owner = client(Role::Owner);
    let owner_token = token_of(&app.db, &people.owner_email).await;
    // Another project, owned by someone else, whose objects must stay out
    // of reach through this project's URLs.
    app.person("stranger@example.org").await;
    let stranger = app.signed_in("stranger@example.org").await;
    let stranger_token = token_of(&app.db, "stranger@example.org").await;
    let theirs = world(
        &app,
        &stranger,
        "outsider@example.org",
        None,
        stranger_token,
    )
    .await;
    let shared = world(
        &app,
        owner,
        "viewer@example.org",
        Some("coder@example.org"),
        owner_token,
    )
    .await;

    let mut failures = Vec::new();
    let mut checked = 0;
    for c in cases() {
        let api = c.path.starts_with("/api/");
        let has_object = c.path.matches('{').count() > usize::from(c.path.contains("{project_id}"));
        for role in ROLES {
            // On this project's own objects; mutations get a fresh project
            // each so one role's delete does not decide the next one's.
            let ours = if c.method == Method::GET {
                shared
            } else {
                world(
                    &app,
                    owner,
                    "viewer@example.org",
                    Some("coder@example.org"),
                    owner_token,
                )
                .await
            };
            let mut variants = vec![(false, ours)];
            if has_object {
                // The same URL with another project's object ids.
                variants.push((
                    true,
                    Ids {
                        project: ours.project,
                        code2: ours.code2,
                        ..theirs
                    },
                ));
            }
            for (foreign, ids) in variants {
                let want = expect(c.level, role, api, foreign);
                // Signing in or out ends the session it is sent with: those
                // go out on a session of their own.
                let own;
                let who = match emails.iter().find(|(r, _)| *r == role) {
                    Some((_, email)) if ENDS_SESSION.contains(&(c.method.as_str(), c.path)) => {
                        own = app.signed_in(email).await;
                        &own
                    }
                    _ => client(role),
                };
                let (status, location) = send(&app, who, &c, &ids).await;
                checked += 1;
                if !meets(want, status, &location, &c.method) {
                    failures.push(format!(
                        "{} {} as {role:?}{}: expected {want:?}, got {status} {location}",
                        c.method,
                        c.path,
                        if foreign {
                            " (another project's object)"
                        } else {
                            ""
                        },
                    ));
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} requests were checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} requests broke the access rules:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing of the other project was changed through this project's URLs.
    let left = stranger
        .get(app.url(&format!(
            "/api/v1/projects/{}/codings/{}",
            theirs.project, theirs.coding
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), StatusCode::OK);
    let coding: Value = left.json().await.unwrap();
    assert_eq!(coding["memo"], "", "another project's coding was edited");
    assert_eq!(coding["code_id"], theirs.code);
}

/// Markup typed anywhere a person can type.
const PAYLOADS: [&str; 3] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(2)>",
    "'><svg onload=alert(3)>",
];

/// Something that is markup if it comes out raw.
fn raw_markup(body: &str) -> Option<&'static str> {
    ["<script>alert", "<img src=x", "<svg onload"]
        .into_iter()
        .find(|m| body.contains(m))
}

#[sqlx::test]
async fn stored_markup_renders_inert_on_every_page(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let [a, b, c] = PAYLOADS;
    // The owner's display name is markup too (members lists, coder names).
    app.user("owner@example.org", &format!("Ann {a}")).await;
    app.user("viewer@example.org", &format!("Vic {b}")).await;
    app.user("coder@example.org", &format!("Cy {c}")).await;
    let owner = app.signed_in("owner@example.org").await;
    let token = {
        let res = owner
            .post(app.url("/account/tokens"))
            .form(&[("name", a)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        token_of(&app.db, "owner@example.org").await
    };
    let w = world(
        &app,
        &owner,
        "viewer@example.org",
        Some("coder@example.org"),
        token,
    )
    .await;
    let api = |p: String| app.url(&format!("/api/v1/projects/{}{p}", w.project));
    let send = |req: reqwest::RequestBuilder| async move {
        let res = req.send().await.unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    };
    send(owner.patch(api(String::new())).json(&json!({
        "name": format!("Study {a}"), "description": format!("About {b}")
    })))
    .await;
    // A transcript whose text, speaker labels and file name carry markup.
    let text = format!(
        "Interviewer: Tell me about {a}?\nDr {b}: It was {c} and worse.\nP01: {a} again.\n"
    );
    send(
        owner
            .post(api("/documents".into()))
            .multipart(reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(text.into_bytes()).file_name(format!("{b}.txt")),
            )),
    )
    .await;
    send(
        owner
            .patch(api(format!("/documents/{}", w.document)))
            .json(&json!({
                "title": format!("Interview {a}")
            })),
    )
    .await;
    let code: Value = owner
        .post(api("/codes".into()))
        .json(&json!({
            "name": format!("Theme {a}"), "definition": format!("Means {b}"),
            "inclusion": c, "exclusion": a, "example": b, "parent_id": w.code
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    send(owner.post(api("/codings".into())).json(&json!({
        "document_id": w.document, "code_id": code["id"], "start": 0, "end": 11,
        "memo": format!("Memo {c}")
    })))
    .await;
    send(
        owner
            .patch(api(format!("/codings/{}", w.coding)))
            .json(&json!({
                "memo": format!("Note {a}"), "starred": true
            })),
    )
    .await;
    send(
        owner
            .put(api("/memo".into()))
            .json(&json!({"memo": format!("Project {b}")})),
    )
    .await;
    send(
        owner
            .put(api(format!("/documents/{}/memo", w.document)))
            .json(&json!({"memo": format!("Document {c}")})),
    )
    .await;
    send(
        owner
            .patch(api(format!("/groups/{}", w.group)))
            .json(&json!({
                "name": format!("Staff {a}")
            })),
    )
    .await;
    send(
        owner
            .patch(api(format!("/participants/{}", w.participant)))
            .json(&json!({
                "label": format!("P01 {b}"),
                "attributes": {format!("locality {c}"): format!("North {a}")}
            })),
    )
    .await;

    // Every page, the HTML export, and pages that echo a bad query back.
    let mut urls: Vec<String> = cases()
        .iter()
        .filter(|c| c.method == Method::GET)
        .map(|c| app.url(&fill(c.path, &w)))
        .collect();
    for extra in [
        format!("/projects/{}/matrix?columns={}", w.project, a),
        format!("/projects/{}/codes/{}?coder={}", w.project, w.code, b),
        format!("/projects/{}/theme-table?tags={}", w.project, c),
        format!("/login?next={a}"),
        format!("/projects/{}/codes/{}", w.project, code["id"]),
    ] {
        urls.push(app.url(&extra));
    }
    let mut html_pages = 0;
    for url in urls {
        let res = owner.get(&url).send().await.unwrap();
        let status = res.status();
        assert!(!status.is_server_error(), "{url}: {status}");
        let kind = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = String::from_utf8_lossy(&res.bytes().await.unwrap()).into_owned();
        if kind.starts_with("text/html") {
            html_pages += 1;
            if let Some(found) = raw_markup(&body) {
                panic!("{url} ({status}) shows stored markup raw: {found}");
            }
        } else {
            // JSON, CSV, XLSX and friends are never sniffed as HTML.
            assert!(!kind.starts_with("text/html"), "{url}: served as {kind}");
        }
    }
    assert!(html_pages >= 20, "only {html_pages} HTML pages were read");
    // The payloads did get stored: the check above read them back escaped.
    let page = app
        .page_text(
            &owner,
            &format!("/projects/{}/codes/{}", w.project, code["id"]),
        )
        .await;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || page.contains("&#60;script"));
}
