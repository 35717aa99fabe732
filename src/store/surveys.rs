//! Surveys, their responses and their scales.

use crate::domain::ids::{ProjectId, UserId};
use crate::domain::questionnaire::{Column, Response};
use serde::Serialize;
use sqlx::PgPool;
use sqlx::types::Json;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Constraint broken by a second survey (or scale) of the same name.
pub const NAME_TAKEN: &str = "survey_name_key";
pub const SCALE_NAME_TAKEN: &str = "scale_name_key";

#[derive(Debug, Clone, Serialize)]
pub struct Survey {
    pub id: i64,
    pub name: String,
    pub file_name: String,
    pub columns: Vec<Column>,
    pub items: Vec<String>,
    pub responses: i64,
    /// Responses per wave, by wave.
    pub waves: BTreeMap<String, i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

struct Row {
    id: i64,
    name: String,
    file_name: String,
    columns: Json<Vec<Column>>,
    items: Vec<String>,
    responses: i64,
    waves: Json<BTreeMap<String, i64>>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<Row> for Survey {
    fn from(r: Row) -> Self {
        Survey {
            id: r.id,
            name: r.name,
            file_name: r.file_name,
            columns: r.columns.0,
            items: r.items,
            responses: r.responses,
            waves: r.waves.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The project's surveys (or the one `only`), by name.
pub async fn list(
    pool: &PgPool,
    project: ProjectId,
    only: Option<i64>,
) -> sqlx::Result<Vec<Survey>> {
    let rows = sqlx::query_as!(
        Row,
        r#"
        select s.survey_id as id, s.name, s.file_name, s.columns as "columns: Json<Vec<Column>>",
               s.items,
               (select count(*) from survey_response r where r.survey_id = s.survey_id) as "responses!",
               (select coalesce(jsonb_object_agg(wave, n), '{}'::jsonb)
                from (select wave, count(*) as n from survey_response r
                      where r.survey_id = s.survey_id group by wave) w)
                 as "waves!: Json<BTreeMap<String, i64>>",
               s.created_at, s.updated_at
        from survey s
        where s.project_id = $1 and ($2::bigint is null or s.survey_id = $2)
        order by lower(s.name), s.survey_id
        "#,
        project as ProjectId,
        only
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Survey::from).collect())
}

/// The survey's id by name (any case), if there is one.
pub async fn by_name(pool: &PgPool, project: ProjectId, name: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select survey_id from survey where project_id = $1 and lower(name) = lower($2)",
        project as ProjectId,
        name
    )
    .fetch_optional(pool)
    .await
}

/// A survey as written: its file's columns and the checked responses.
pub struct NewSurvey<'a> {
    pub name: &'a str,
    pub file_name: &'a str,
    pub columns: &'a [Column],
    pub items: &'a [String],
    pub responses: &'a [Response],
}

/// Write a survey, or replace the responses (and columns) of `replace`, in
/// one transaction; answers its id.
pub async fn save(
    pool: &PgPool,
    project: ProjectId,
    by: UserId,
    replace: Option<i64>,
    new: &NewSurvey<'_>,
) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    let columns = Json(new.columns);
    let id = match replace {
        Some(id) => {
            sqlx::query!(
                r#"update survey set columns = $3, items = $4, file_name = $5, updated_at = now()
                   where project_id = $1 and survey_id = $2"#,
                project as ProjectId,
                id,
                columns as Json<&[Column]>,
                new.items,
                new.file_name
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!("delete from survey_response where survey_id = $1", id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            sqlx::query_scalar!(
                r#"insert into survey (project_id, name, file_name, columns, items, created_by)
                   values ($1, $2, $3, $4, $5, $6) returning survey_id"#,
                project as ProjectId,
                new.name,
                new.file_name,
                columns as Json<&[Column]>,
                new.items,
                by as UserId
            )
            .fetch_one(&mut *tx)
            .await?
        }
    };
    let responses = Json(new.responses);
    sqlx::query!(
        r#"
        insert into survey_response (survey_id, row_no, respondent, wave, attributes, items)
        select $1, r.line, r.respondent, r.wave, r.attributes, r.items
        from jsonb_to_recordset($2) as r (line integer, respondent text, wave text,
                                          attributes jsonb, items jsonb)
        "#,
        id,
        responses as Json<&[Response]>
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A stored response.
#[derive(Debug, Clone)]
pub struct Stored {
    pub line: i32,
    pub respondent: Option<String>,
    pub wave: String,
    pub attributes: BTreeMap<String, String>,
    pub items: Vec<Option<f64>>,
}

/// A survey's responses, in file order.
pub async fn responses(pool: &PgPool, survey: i64) -> sqlx::Result<Vec<Stored>> {
    let rows = sqlx::query!(
        r#"select row_no, respondent, wave,
                  attributes as "attributes: Json<BTreeMap<String, String>>",
                  items as "items: Json<Vec<Option<f64>>>"
           from survey_response where survey_id = $1 order by row_no"#,
        survey
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Stored {
            line: r.row_no,
            respondent: r.respondent,
            wave: r.wave,
            attributes: r.attributes.0,
            items: r.items.0,
        })
        .collect())
}

pub async fn delete(pool: &PgPool, project: ProjectId, survey: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from survey where project_id = $1 and survey_id = $2",
        project as ProjectId,
        survey
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A scale as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleRow {
    pub id: i64,
    pub survey_id: i64,
    pub name: String,
    pub items: Vec<String>,
    pub reverse: Vec<String>,
    pub min: f64,
    pub max: f64,
    pub score: String,
    pub min_items: Option<i32>,
}

/// The scales of a survey (or the one `only`), by name.
pub async fn scales(pool: &PgPool, survey: i64, only: Option<i64>) -> sqlx::Result<Vec<ScaleRow>> {
    sqlx::query_as!(
        ScaleRow,
        r#"select scale_id as id, survey_id, name, items, reverse, min_value as min,
                  max_value as max, score, min_items
           from scale where survey_id = $1 and ($2::bigint is null or scale_id = $2)
           order by lower(name), scale_id"#,
        survey,
        only
    )
    .fetch_all(pool)
    .await
}

pub async fn insert_scale(pool: &PgPool, s: &ScaleRow) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"insert into scale (survey_id, name, items, reverse, min_value, max_value, score, min_items)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning scale_id"#,
        s.survey_id,
        s.name,
        &s.items,
        &s.reverse,
        s.min,
        s.max,
        s.score,
        s.min_items
    )
    .fetch_one(pool)
    .await
}

pub async fn delete_scale(pool: &PgPool, survey: i64, scale: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from scale where survey_id = $1 and scale_id = $2",
        survey,
        scale
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The survey a scale of this project belongs to.
pub async fn survey_of_scale(
    pool: &PgPool,
    project: ProjectId,
    scale: i64,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"select s.survey_id from scale c join survey s using (survey_id)
           where s.project_id = $1 and c.scale_id = $2"#,
        project as ProjectId,
        scale
    )
    .fetch_optional(pool)
    .await
}
