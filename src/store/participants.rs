//! Participants (cases) of a project. Labels are unique per project,
//! regardless of case (`participant_label_key`).

use crate::domain::ids::{GroupId, ParticipantId, ProjectId};
use crate::domain::participant::Attributes;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

pub const LABEL_TAKEN: &str = "participant_label_key";
/// The group named is not one of the project's.
pub const NO_SUCH_GROUP: &str = "participant_group_fkey";

#[derive(Debug, Clone, Serialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub label: String,
    /// The group's name.
    pub group: Option<String>,
    pub group_id: Option<GroupId>,
    pub attributes: Attributes,
    /// Documents in which one of this participant's speakers talks.
    pub documents: i64,
}

struct Row {
    id: ParticipantId,
    label: String,
    group: Option<String>,
    group_id: Option<GroupId>,
    attributes: Json<Attributes>,
    documents: i64,
}

impl From<Row> for Participant {
    fn from(r: Row) -> Self {
        Participant {
            id: r.id,
            label: r.label,
            group: r.group,
            group_id: r.group_id,
            attributes: r.attributes.0,
            documents: r.documents,
        }
    }
}

/// What a new or changed participant holds.
#[derive(Debug, Clone)]
pub struct NewParticipant {
    pub label: String,
    pub group: Option<GroupId>,
    pub attributes: Attributes,
}

/// The project's participants by group order and label (`only` narrows to one).
async fn select(
    pool: &PgPool,
    project: ProjectId,
    only: Option<ParticipantId>,
) -> sqlx::Result<Vec<Participant>> {
    let rows = sqlx::query_as!(
        Row,
        r#"
        select p.participant_id as "id: ParticipantId", p.label, g.name as "group?",
               p.group_id as "group_id: GroupId", p.attributes as "attributes: Json<Attributes>",
               (select count(distinct s.document_id) from speaker s
                 where s.participant_id = p.participant_id) as "documents!"
        from participant p
        left join stakeholder_group g on g.group_id = p.group_id
        where p.project_id = $1
          and ($2::bigint is null or p.participant_id = $2)
        order by g.position nulls last, lower(p.label)
        "#,
        project as ProjectId,
        only as Option<ParticipantId>
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Participant::from).collect())
}

pub async fn list(pool: &PgPool, project: ProjectId) -> sqlx::Result<Vec<Participant>> {
    select(pool, project, None).await
}

pub async fn get(
    pool: &PgPool,
    project: ProjectId,
    id: ParticipantId,
) -> sqlx::Result<Option<Participant>> {
    Ok(select(pool, project, Some(id)).await?.pop())
}

/// A participant as a speaker's mapping offers it: no counts.
#[derive(Debug, Clone)]
pub struct Choice {
    pub id: ParticipantId,
    pub label: String,
    /// The group's name.
    pub group: Option<String>,
}

/// The participants a speaker can be mapped to, in [`list`]'s order.
pub async fn choices(pool: &PgPool, project: ProjectId) -> sqlx::Result<Vec<Choice>> {
    sqlx::query_as!(
        Choice,
        r#"
        select p.participant_id as "id: ParticipantId", p.label, g.name as "group?"
        from participant p
        left join stakeholder_group g on g.group_id = p.group_id
        where p.project_id = $1
        order by g.position nulls last, lower(p.label)
        "#,
        project as ProjectId
    )
    .fetch_all(pool)
    .await
}

/// Every attribute `(name, value)` some participant of the project has.
pub async fn attribute_values(
    pool: &PgPool,
    project: ProjectId,
) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"
        select distinct e.key as "name!", e.value as "value!"
        from participant p, jsonb_each_text(p.attributes) e
        where p.project_id = $1
        "#,
        project as ProjectId
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.name, r.value)).collect())
}

/// Every participant's id and label, for speaker mapping.
pub async fn labels(
    conn: &mut PgConnection,
    project: ProjectId,
) -> sqlx::Result<Vec<(ParticipantId, String)>> {
    let rows = sqlx::query!(
        r#"select participant_id as "id: ParticipantId", label from participant where project_id = $1"#,
        project as ProjectId
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.label)).collect())
}

pub async fn insert(
    conn: &mut PgConnection,
    project: ProjectId,
    p: &NewParticipant,
) -> sqlx::Result<ParticipantId> {
    sqlx::query_scalar!(
        r#"
        insert into participant (project_id, label, group_id, attributes)
        values ($1, $2, $3, $4)
        returning participant_id as "id: ParticipantId"
        "#,
        project as ProjectId,
        p.label,
        p.group as Option<GroupId>,
        Json(&p.attributes) as _
    )
    .fetch_one(conn)
    .await
}

/// Insert many in one transaction: all or none.
pub async fn insert_all(
    pool: &PgPool,
    project: ProjectId,
    rows: &[NewParticipant],
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for p in rows {
        insert(&mut tx, project, p).await?;
    }
    map_waiting_speakers(&mut tx, project).await?;
    tx.commit().await
}

/// Map every speaker still mapped to no one (not an interviewer) to the
/// participant with the same label, ignoring case and surrounding spaces:
/// the speaker "P03" of a transcript imported before participant "P03"
/// existed. Answers how many speaker rows were mapped.
pub async fn map_waiting_speakers(
    conn: &mut PgConnection,
    project: ProjectId,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        r#"
        update speaker s set participant_id = p.participant_id
        from participant p
        where s.project_id = $1 and p.project_id = $1
          and s.participant_id is null and not s.is_interviewer
          and lower(btrim(s.label)) = lower(btrim(p.label))
        "#,
        project as ProjectId
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn update(
    pool: &PgPool,
    project: ProjectId,
    id: ParticipantId,
    p: &NewParticipant,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"
        update participant
        set label = $3, group_id = $4, attributes = $5
        where project_id = $1 and participant_id = $2
        "#,
        project as ProjectId,
        id as ParticipantId,
        p.label,
        p.group as Option<GroupId>,
        Json(&p.attributes) as _
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Delete; their speakers become unassigned (the turns stay).
pub async fn delete(pool: &PgPool, project: ProjectId, id: ParticipantId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from participant where project_id = $1 and participant_id = $2",
        project as ProjectId,
        id as ParticipantId
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
