//! Documents with their turns and speakers. A document is written in one
//! transaction with everything that belongs to it: an import either lands
//! whole or not at all.

use crate::domain::document::DocumentKind;
use crate::domain::ids::{CodeId, CodingId, DocumentId, GroupId, ParticipantId, ProjectId, UserId};
use crate::domain::participant::Attributes;
use crate::domain::speakers::{Mapping, SpeakerRole};
use crate::domain::text::TurnMark;
use crate::domain::turns::Turn;
use crate::store::codings::Mark;
use serde::Serialize;
use sqlx::PgPool;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};

/// A speaker mapped to a participant of another project (or none).
pub const NO_SUCH_PARTICIPANT: &str = "speaker_participant_fkey";

/// A document ready to be stored.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub title: String,
    pub kind: DocumentKind,
    pub held_on: Option<Date>,
    pub attributes: Attributes,
    pub original_filename: Option<String>,
    pub source_format: &'static str,
    pub text: String,
    pub turns: Vec<Turn>,
    pub speakers: Vec<Mapping>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentSummary {
    pub id: DocumentId,
    pub title: String,
    pub kind: DocumentKind,
    pub held_on: Option<Date>,
    pub attributes: Attributes,
    pub original_filename: Option<String>,
    pub source_format: String,
    /// Length of the text in code points.
    pub length: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub turn_count: i64,
    pub speaker_count: i64,
    /// Speakers mapped to neither a participant nor the interviewer.
    pub unassigned_speakers: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Speaker {
    pub label: String,
    pub participant_id: Option<ParticipantId>,
    pub role: SpeakerRole,
    pub participant: Option<String>,
    pub group: Option<String>,
    pub group_id: Option<GroupId>,
    pub turns: i64,
}

pub async fn insert(
    pool: &PgPool,
    project: ProjectId,
    user: Option<UserId>,
    doc: &NewDocument,
) -> sqlx::Result<DocumentId> {
    let speakers: Vec<Option<String>> = doc.turns.iter().map(|t| t.speaker.clone()).collect();
    let starts: Vec<i32> = doc.turns.iter().map(|t| t.start as i32).collect();
    let ends: Vec<i32> = doc.turns.iter().map(|t| t.end as i32).collect();
    let times: Vec<Option<i64>> = doc
        .turns
        .iter()
        .map(|t| t.time_ms.map(|ms| ms as i64))
        .collect();
    let labels: Vec<String> = doc.speakers.iter().map(|m| m.label.clone()).collect();
    let participants: Vec<Option<i64>> = doc
        .speakers
        .iter()
        .map(|m| m.participant.map(|p| p.0))
        .collect();
    let interviewer: Vec<bool> = doc.speakers.iter().map(|m| m.interviewer).collect();
    // The document, its turns and its speakers in one statement: all or
    // nothing without a transaction around three round trips (foreign keys
    // are checked at the statement's end, when all three are in).
    sqlx::query_scalar!(
        r#"
        with d as (
            insert into document (project_id, title, kind, held_on, attributes, original_filename,
                                  source_format, body, char_count, created_by)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            returning document_id
        ),
        turns as (
            insert into turn (document_id, turn_no, speaker, start_pos, end_pos, time_ms)
            select d.document_id, t.n::integer, t.speaker, t.start_pos, t.end_pos, t.time_ms
            from d, unnest($11::text[], $12::integer[], $13::integer[], $14::bigint[])
                    with ordinality as t (speaker, start_pos, end_pos, time_ms, n)
        ),
        speakers as (
            insert into speaker (project_id, document_id, label, participant_id, is_interviewer)
            select $1, d.document_id, s.label, s.participant_id, s.is_interviewer
            from d, unnest($15::text[], $16::bigint[], $17::boolean[])
                    as s (label, participant_id, is_interviewer)
        )
        select document_id as "id: DocumentId" from d
        "#,
        project as ProjectId,
        doc.title,
        doc.kind as DocumentKind,
        doc.held_on,
        Json(&doc.attributes) as _,
        doc.original_filename,
        doc.source_format,
        doc.text,
        doc.text.chars().count() as i32,
        user as Option<UserId>,
        &speakers as &[Option<String>],
        &starts,
        &ends,
        &times as &[Option<i64>],
        &labels,
        &participants as &[Option<i64>],
        &interviewer
    )
    .fetch_one(pool)
    .await
}

struct SummaryRow {
    id: DocumentId,
    title: String,
    kind: DocumentKind,
    held_on: Option<Date>,
    attributes: Json<Attributes>,
    original_filename: Option<String>,
    source_format: String,
    length: i32,
    created_at: OffsetDateTime,
    turn_count: i64,
    speaker_count: i64,
    unassigned_speakers: i64,
}

impl From<SummaryRow> for DocumentSummary {
    fn from(r: SummaryRow) -> Self {
        DocumentSummary {
            id: r.id,
            title: r.title,
            kind: r.kind,
            held_on: r.held_on,
            attributes: r.attributes.0,
            original_filename: r.original_filename,
            source_format: r.source_format,
            length: r.length,
            created_at: r.created_at,
            turn_count: r.turn_count,
            speaker_count: r.speaker_count,
            unassigned_speakers: r.unassigned_speakers,
        }
    }
}

/// Summaries of the project's documents by title (`only` narrows to one).
async fn summaries(
    pool: &PgPool,
    project: ProjectId,
    only: Option<DocumentId>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<DocumentSummary>> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"
        select d.document_id as "id: DocumentId", d.title, d.kind as "kind: DocumentKind", d.held_on,
               d.attributes as "attributes: Json<Attributes>", d.original_filename, d.source_format,
               d.char_count as length, d.created_at,
               (select count(*) from turn t where t.document_id = d.document_id) as "turn_count!",
               (select count(*) from speaker s where s.document_id = d.document_id) as "speaker_count!",
               (select count(*) from speaker s where s.document_id = d.document_id
                  and s.participant_id is null and not s.is_interviewer) as "unassigned_speakers!"
        from document d
        where d.project_id = $1
          and ($2::bigint is null or d.document_id = $2)
        order by lower(d.title), d.document_id
        limit $3 offset $4
        "#,
        project as ProjectId,
        only as Option<DocumentId>,
        limit,
        offset
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(DocumentSummary::from).collect())
}

pub async fn list(
    pool: &PgPool,
    project: ProjectId,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<DocumentSummary>, i64)> {
    let items = summaries(pool, project, None, limit, offset).await?;
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!" from document where project_id = $1"#,
        project as ProjectId
    )
    .fetch_one(pool)
    .await?;
    Ok((items, total))
}

pub async fn get(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
) -> sqlx::Result<Option<DocumentSummary>> {
    Ok(summaries(pool, project, Some(id), 1, 0).await?.pop())
}

/// A document's summary and speakers, in one statement; with its turns
/// (which never change, and so are kept: `service::texts`),
/// [`Detail::with_turns`] completes them.
pub async fn detail(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
) -> sqlx::Result<Option<Detail>> {
    Ok(read_detail(pool, project, id, false)
        .await?
        .map(|(detail, _)| detail))
}

/// [`detail`] and every coder's codings of the document (as
/// [`crate::store::codings::marks`] reads them), in one statement.
pub async fn detail_with_codings(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
) -> sqlx::Result<Option<(Detail, Vec<Mark>)>> {
    read_detail(pool, project, id, true).await
}

async fn read_detail(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
    with_codings: bool,
) -> sqlx::Result<Option<(Detail, Vec<Mark>)>> {
    let Some(r) = sqlx::query!(
        r#"
        select d.document_id as "id: DocumentId", d.title, d.kind as "kind: DocumentKind",
               d.held_on, d.attributes as "attributes: Json<Attributes>", d.original_filename,
               d.source_format, d.char_count as length, d.created_at,
               coalesce(s.labels, '{}') as "labels!: Vec<String>",
               coalesce(s.participant_ids, '{}') as "participant_ids!: Vec<Option<i64>>",
               coalesce(s.interviewers, '{}') as "interviewers!: Vec<bool>",
               coalesce(s.participants, '{}') as "participants!: Vec<Option<String>>",
               coalesce(s.groups, '{}') as "groups!: Vec<Option<String>>",
               coalesce(s.group_ids, '{}') as "group_ids!: Vec<Option<i64>>",
               coalesce(m.ids, '{}') as "mark_ids!: Vec<CodingId>",
               coalesce(m.codes, '{}') as "mark_codes!: Vec<CodeId>",
               coalesce(m.coders, '{}') as "mark_coders!: Vec<UserId>",
               coalesce(m.starts, '{}') as "mark_starts!: Vec<i32>",
               coalesce(m.ends, '{}') as "mark_ends!: Vec<i32>",
               coalesce(m.memos, '{}') as "mark_memos!: Vec<String>",
               coalesce(m.starred, '{}') as "mark_starred!: Vec<bool>",
               coalesce(m.created, '{}') as "mark_created!: Vec<OffsetDateTime>"
        from document d
        cross join lateral (
            select array_agg(s.label order by s.label) as labels,
                   array_agg(s.participant_id order by s.label) as participant_ids,
                   array_agg(s.is_interviewer order by s.label) as interviewers,
                   array_agg(p.label order by s.label) as participants,
                   array_agg(g.name order by s.label) as groups,
                   array_agg(p.group_id order by s.label) as group_ids
            from speaker s
            left join participant p on p.participant_id = s.participant_id
            left join stakeholder_group g on g.group_id = p.group_id
            where s.document_id = d.document_id
        ) s
        -- The codings of live codes when asked for, in no order (one
        -- aggregate pass keeps the arrays in step; sorted after).
        cross join lateral (
            select array_agg(g.coding_id) as ids, array_agg(g.code_id) as codes,
                   array_agg(g.coder_id) as coders, array_agg(g.start_pos) as starts,
                   array_agg(g.end_pos) as ends, array_agg(g.memo) as memos,
                   array_agg(g.starred) as starred, array_agg(g.created_at) as created
            from coding g
            join code c on c.code_id = g.code_id and c.deleted_at is null
            where $3 and g.document_id = d.document_id
        ) m
        where d.project_id = $1 and d.document_id = $2
        "#,
        project as ProjectId,
        id as DocumentId,
        with_codings
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let mut marks: Vec<Mark> = r
        .mark_ids
        .into_iter()
        .zip(r.mark_codes)
        .zip(r.mark_coders)
        .zip(r.mark_starts.into_iter().zip(r.mark_ends))
        .zip(r.mark_memos.into_iter().zip(r.mark_starred))
        .zip(r.mark_created)
        .map(
            |(((((id, code_id), coder), (start, end)), (memo, starred)), created_at)| Mark {
                id,
                code_id,
                coder,
                start,
                end,
                memo,
                starred,
                created_at,
            },
        )
        .collect();
    crate::store::codings::in_text_order(&mut marks);
    let detail = Detail {
        summary: SummaryRow {
            id: r.id,
            title: r.title,
            kind: r.kind,
            held_on: r.held_on,
            attributes: r.attributes,
            original_filename: r.original_filename,
            source_format: r.source_format,
            length: r.length,
            created_at: r.created_at,
            turn_count: 0,
            speaker_count: 0,
            unassigned_speakers: 0,
        },
        labels: r.labels,
        participant_ids: r.participant_ids,
        interviewers: r.interviewers,
        participants: r.participants,
        groups: r.groups,
        group_ids: r.group_ids,
    };
    Ok(Some((detail, marks)))
}

/// A document's summary and speakers as read, to be completed with its
/// turns ([`Detail::with_turns`]).
pub struct Detail {
    summary: SummaryRow,
    labels: Vec<String>,
    participant_ids: Vec<Option<i64>>,
    interviewers: Vec<bool>,
    participants: Vec<Option<String>>,
    groups: Vec<Option<String>>,
    group_ids: Vec<Option<i64>>,
}

impl Detail {
    /// The summary and the speakers (each with how many turns it takes, in
    /// order of its first turn), given the document's turns.
    pub fn with_turns(self, turns: &[TurnMark]) -> (DocumentSummary, Vec<Speaker>) {
        // Each speaker's turns and first turn, from the turns themselves.
        let mut taking_part: std::collections::HashMap<&str, (i64, usize)> =
            std::collections::HashMap::new();
        for (i, t) in turns.iter().enumerate() {
            if let Some(label) = &t.speaker {
                taking_part.entry(label.as_str()).or_insert((0, i)).0 += 1;
            }
        }
        let r = self;
        let mut speakers: Vec<(Option<usize>, Speaker)> = r
            .labels
            .into_iter()
            .zip(r.participant_ids)
            .zip(r.interviewers)
            .zip(r.participants.into_iter().zip(r.groups).zip(r.group_ids))
            .map(
                |(((label, participant_id), interviewer), ((participant, group), group_id))| {
                    let participant_id = participant_id.map(ParticipantId);
                    let mapping = Mapping {
                        label: label.clone(),
                        participant: participant_id,
                        interviewer,
                    };
                    let (turns, first) = match taking_part.get(label.as_str()) {
                        Some(&(n, first)) => (n, Some(first)),
                        None => (0, None),
                    };
                    (
                        first,
                        Speaker {
                            role: mapping.role(),
                            label,
                            participant_id,
                            participant,
                            group,
                            group_id: group_id.map(GroupId),
                            turns,
                        },
                    )
                },
            )
            .collect();
        // As `speakers` orders them: by first turn, those with none last; the
        // sort is stable, so ties keep the database's order of labels.
        speakers.sort_by_key(|(first, _)| (first.is_none(), *first));
        let speakers: Vec<Speaker> = speakers.into_iter().map(|(_, s)| s).collect();
        let summary = DocumentSummary::from(SummaryRow {
            turn_count: turns.len() as i64,
            speaker_count: speakers.len() as i64,
            unassigned_speakers: speakers
                .iter()
                .filter(|s| s.role == SpeakerRole::Unassigned)
                .count() as i64,
            ..r.summary
        });
        (summary, speakers)
    }
}

pub async fn text(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select body from document where project_id = $1 and document_id = $2",
        project as ProjectId,
        id as DocumentId
    )
    .fetch_optional(pool)
    .await
}

/// Documents' text and turns, in one round trip: what never changes once a
/// document is stored. `ids`: these documents of the project (all of its
/// documents when `None`).
pub async fn texts(
    pool: &PgPool,
    project: ProjectId,
    ids: Option<&[DocumentId]>,
) -> sqlx::Result<Vec<(DocumentId, String, Vec<TurnMark>)>> {
    let ids: Option<Vec<i64>> = ids.map(|ids| ids.iter().map(|d| d.0).collect());
    let rows = sqlx::query!(
        r#"
        select d.document_id as "id: DocumentId", d.body,
               coalesce(t.speakers, '{}') as "speakers!: Vec<Option<String>>",
               coalesce(t.starts, '{}') as "starts!: Vec<i32>",
               coalesce(t.ends, '{}') as "ends!: Vec<i32>",
               coalesce(t.numbers, '{}') as "numbers!: Vec<i32>",
               coalesce(t.times, '{}') as "times!: Vec<Option<i64>>"
        from document d
        cross join lateral (
            select array_agg(t.speaker order by t.turn_no) as speakers,
                   array_agg(t.start_pos order by t.turn_no) as starts,
                   array_agg(t.end_pos order by t.turn_no) as ends,
                   array_agg(t.turn_no order by t.turn_no) as numbers,
                   array_agg(t.time_ms order by t.turn_no) as times
            from turn t where t.document_id = d.document_id
        ) t
        where d.project_id = $1 and ($2::bigint[] is null or d.document_id = any($2))
        "#,
        project as ProjectId,
        ids.as_deref() as Option<&[i64]>
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let turns = r
                .speakers
                .into_iter()
                .zip(r.starts.into_iter().zip(r.ends))
                .zip(r.numbers.into_iter().zip(r.times))
                .map(|((speaker, (start, end)), (no, time_ms))| TurnMark {
                    speaker,
                    start: start as usize,
                    end: end as usize,
                    no,
                    time_ms,
                })
                .collect();
            (r.id, r.body, turns)
        })
        .collect())
}

/// The project's documents (or these of them) and how many bytes of text
/// each holds (read without reading the text).
pub async fn text_sizes(
    pool: &PgPool,
    project: ProjectId,
    ids: Option<&[DocumentId]>,
) -> sqlx::Result<Vec<(DocumentId, i64)>> {
    let ids: Option<Vec<i64>> = ids.map(|ids| ids.iter().map(|d| d.0).collect());
    let rows = sqlx::query!(
        r#"select document_id as "id: DocumentId", octet_length(body)::bigint as "bytes!"
           from document
           where project_id = $1 and ($2::bigint[] is null or document_id = any($2))"#,
        project as ProjectId,
        ids.as_deref() as Option<&[i64]>
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.bytes)).collect())
}

pub async fn turns(pool: &PgPool, project: ProjectId, id: DocumentId) -> sqlx::Result<Vec<Turn>> {
    let rows = sqlx::query!(
        r#"
        select t.speaker, t.start_pos, t.end_pos, t.time_ms
        from turn t
        join document d using (document_id)
        where d.project_id = $1 and t.document_id = $2
        order by t.turn_no
        "#,
        project as ProjectId,
        id as DocumentId
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Turn {
            speaker: r.speaker,
            start: r.start_pos as usize,
            end: r.end_pos as usize,
            time_ms: r.time_ms.map(|t| t as u64),
        })
        .collect())
}

pub async fn speakers(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
) -> sqlx::Result<Vec<Speaker>> {
    let rows = sqlx::query!(
        r#"
        select s.label, s.participant_id as "participant_id: ParticipantId", s.is_interviewer,
               p.label as "participant?", g.name as "group?", p.group_id as "group_id?: GroupId",
               (select count(*) from turn t where t.document_id = s.document_id and t.speaker = s.label) as "turns!",
               (select min(t.turn_no) from turn t where t.document_id = s.document_id and t.speaker = s.label) as first_turn
        from speaker s
        left join participant p on p.participant_id = s.participant_id
        left join stakeholder_group g on g.group_id = p.group_id
        where s.project_id = $1 and s.document_id = $2
        order by first_turn nulls last, s.label
        "#,
        project as ProjectId,
        id as DocumentId
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mapping = Mapping {
                label: r.label.clone(),
                participant: r.participant_id,
                interviewer: r.is_interviewer,
            };
            Speaker {
                role: mapping.role(),
                label: r.label,
                participant_id: r.participant_id,
                participant: r.participant,
                group: r.group,
                group_id: r.group_id,
                turns: r.turns,
            }
        })
        .collect())
}

/// What may change about a document; `None` keeps the value.
#[derive(Debug, Default)]
pub struct DocumentChanges {
    pub title: Option<String>,
    pub kind: Option<DocumentKind>,
    pub held_on: Option<Option<Date>>,
    pub attributes: Option<Attributes>,
}

pub async fn update(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
    c: &DocumentChanges,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"
        update document
        set title = coalesce($3, title),
            kind = coalesce($4, kind),
            held_on = case when $5 then $6 else held_on end,
            attributes = coalesce($7, attributes),
            updated_at = now()
        where project_id = $1 and document_id = $2
        "#,
        project as ProjectId,
        id as DocumentId,
        c.title,
        c.kind as Option<DocumentKind>,
        c.held_on.is_some(),
        c.held_on.flatten(),
        c.attributes.as_ref().map(Json) as _
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Re-map speakers of one document — or, with `everywhere`, the speakers
/// with the same labels (ignoring case) in every document of the project.
/// Returns the number of speaker rows changed.
pub async fn set_speakers(
    pool: &PgPool,
    project: ProjectId,
    doc: DocumentId,
    mappings: &[Mapping],
    everywhere: bool,
) -> sqlx::Result<u64> {
    let labels: Vec<String> = mappings.iter().map(|m| m.label.clone()).collect();
    let participants: Vec<Option<i64>> = mappings
        .iter()
        .map(|m| m.participant.map(|p| p.0))
        .collect();
    let interviewer: Vec<bool> = mappings.iter().map(|m| m.interviewer).collect();
    let done = sqlx::query!(
        r#"
        update speaker s
        set participant_id = m.participant_id, is_interviewer = m.is_interviewer
        from unnest($3::text[], $4::bigint[], $5::boolean[]) as m (label, participant_id, is_interviewer)
        where s.project_id = $1
          and ((s.document_id = $2 and s.label = m.label)
               or ($6 and lower(s.label) = lower(m.label)))
        "#,
        project as ProjectId,
        doc as DocumentId,
        &labels,
        &participants as &[Option<i64>],
        &interviewer,
        everywhere
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Which of `ids` are documents of the project.
pub async fn existing(
    pool: &PgPool,
    project: ProjectId,
    ids: &[DocumentId],
) -> sqlx::Result<Vec<DocumentId>> {
    let raw: Vec<i64> = ids.iter().map(|d| d.0).collect();
    sqlx::query_scalar!(
        r#"select document_id as "id: DocumentId" from document
           where project_id = $1 and document_id = any($2)"#,
        project as ProjectId,
        &raw
    )
    .fetch_all(pool)
    .await
}

/// What goes to the trash with a document.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Footprint {
    pub codings: i64,
    pub coders: i64,
    pub memos: i64,
}

pub async fn footprint(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
) -> sqlx::Result<Option<Footprint>> {
    sqlx::query_as!(
        Footprint,
        r#"
        select (select count(*) from coding c where c.document_id = d.document_id) as "codings!",
               (select count(distinct c.coder_id) from coding c
                where c.document_id = d.document_id) as "coders!",
               ((d.memo <> '')::int + (select count(*) from coding c
                where c.document_id = d.document_id and c.memo <> ''))::bigint as "memos!"
        from document d
        where d.project_id = $1 and d.document_id = $2
        "#,
        project as ProjectId,
        id as DocumentId
    )
    .fetch_optional(pool)
    .await
}

/// A document in the trash.
#[derive(Debug, Clone, Serialize)]
pub struct Trashed {
    pub id: DocumentId,
    pub title: String,
    pub codings: i32,
    pub coders: i32,
    pub memos: i32,
    pub deleted_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub deleted_at: OffsetDateTime,
}

/// Move a document to the trash: one snapshot of it and everything that
/// belongs to it, then the live rows go (in one transaction). `None` when
/// there is no such document.
pub async fn trash(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
    by: UserId,
) -> sqlx::Result<Option<Footprint>> {
    let mut tx = pool.begin().await?;
    let kept = sqlx::query_as!(
        Footprint,
        r#"
        with doc as (
            select * from document where project_id = $1 and document_id = $2 for update
        ),
        snap as (
            select d.document_id, d.project_id, d.title,
                   jsonb_build_object(
                       'document', to_jsonb(d.*),
                       'turns', coalesce((select jsonb_agg(to_jsonb(t.*)) from turn t
                                          where t.document_id = d.document_id), '[]'),
                       'speakers', coalesce((select jsonb_agg(to_jsonb(s.*)) from speaker s
                                             where s.document_id = d.document_id), '[]'),
                       'codings', coalesce((select jsonb_agg(to_jsonb(c.*)) from coding c
                                            where c.document_id = d.document_id), '[]'),
                       'parts', coalesce((select jsonb_agg(to_jsonb(p.*)) from coding_part p
                                          join coding c using (coding_id)
                                          where c.document_id = d.document_id), '[]'),
                       'adjudications', coalesce((select jsonb_agg(to_jsonb(a.*)) from adjudication a
                                                  where a.document_id = d.document_id), '[]')
                   ) as snapshot,
                   (select count(*) from coding c where c.document_id = d.document_id)::int as codings,
                   (select count(distinct c.coder_id) from coding c
                    where c.document_id = d.document_id)::int as coders,
                   ((d.memo <> '')::int + (select count(*) from coding c
                    where c.document_id = d.document_id and c.memo <> ''))::int as memos
            from doc d
        )
        insert into document_trash (document_id, project_id, title, snapshot, codings, coders, memos, deleted_by)
        select document_id, project_id, title, snapshot, codings, coders, memos, $3 from snap
        returning codings::bigint as "codings!", coders::bigint as "coders!", memos::bigint as "memos!"
        "#,
        project as ProjectId,
        id as DocumentId,
        by as UserId
    )
    .fetch_optional(&mut *tx)
    .await?;
    if kept.is_none() {
        return Ok(None);
    }
    sqlx::query!(
        "delete from document where project_id = $1 and document_id = $2",
        project as ProjectId,
        id as DocumentId
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(kept)
}

/// The project's trashed documents, the latest first.
pub async fn trash_list(pool: &PgPool, project: ProjectId) -> sqlx::Result<Vec<Trashed>> {
    sqlx::query_as!(
        Trashed,
        r#"
        select t.document_id as "id: DocumentId", t.title, t.codings, t.coders, t.memos,
               u.name as "deleted_by?", t.deleted_at
        from document_trash t
        left join app_user u on u.user_id = t.deleted_by
        where t.project_id = $1
        order by t.deleted_at desc, t.document_id desc
        "#,
        project as ProjectId
    )
    .fetch_all(pool)
    .await
}

/// What a restore brought back.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Restored {
    pub codings: i64,
    /// Codings whose code was deleted for good (or merged away) meanwhile.
    pub lost: i64,
}

/// Bring a document back from the trash with everything that went with it,
/// under the same ids; `None` when it is not in the trash.
pub async fn restore(
    pool: &PgPool,
    project: ProjectId,
    id: DocumentId,
) -> sqlx::Result<Option<Restored>> {
    let mut tx = pool.begin().await?;
    let snapshot = sqlx::query_scalar!(
        r#"delete from document_trash where project_id = $1 and document_id = $2
           returning snapshot"#,
        project as ProjectId,
        id as DocumentId
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    // The people it names may have gone meanwhile (placeholders of a failed
    // import); the participants it maps to may have been deleted.
    sqlx::query!(
        r#"
        insert into document overriding system value
        select * from jsonb_populate_record(null::document,
            $1::jsonb->'document' || jsonb_build_object(
                'created_by', (select user_id from app_user
                               where user_id = ($1::jsonb->'document'->>'created_by')::bigint),
                'memo_by', (select user_id from app_user
                            where user_id = ($1::jsonb->'document'->>'memo_by')::bigint)))
        "#,
        snapshot
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into turn select * from jsonb_populate_recordset(null::turn, $1::jsonb->'turns')",
        snapshot
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"
        insert into speaker (project_id, document_id, label, participant_id, is_interviewer)
        select s.project_id, s.document_id, s.label, p.participant_id, s.is_interviewer
        from jsonb_populate_recordset(null::speaker, $1::jsonb->'speakers') s
        left join participant p on p.project_id = s.project_id and p.participant_id = s.participant_id
        "#,
        snapshot
    )
    .execute(&mut *tx)
    .await?;
    let codings = sqlx::query!(
        r#"
        insert into coding overriding system value
        select c.* from jsonb_populate_recordset(null::coding, $1::jsonb->'codings') c
        where exists (select 1 from code k where k.project_id = c.project_id and k.code_id = c.code_id)
          and exists (select 1 from app_user u where u.user_id = c.coder_id)
        "#,
        snapshot
    )
    .execute(&mut *tx)
    .await?
    .rows_affected() as i64;
    let all = snapshot["codings"].as_array().map_or(0, Vec::len) as i64;
    sqlx::query!(
        r#"
        insert into coding_part
        select p.* from jsonb_populate_recordset(null::coding_part, $1::jsonb->'parts') p
        where exists (select 1 from coding c where c.coding_id = p.coding_id)
        "#,
        snapshot
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"
        insert into adjudication overriding system value
        select a.* from jsonb_populate_recordset(null::adjudication, $1::jsonb->'adjudications') a
        where exists (select 1 from code k where k.project_id = a.project_id and k.code_id = a.code_id)
          and exists (select 1 from app_user u where u.user_id = a.coder_a)
          and exists (select 1 from app_user u where u.user_id = a.coder_b)
          and (a.decided_by is null or exists (select 1 from app_user u where u.user_id = a.decided_by))
        "#,
        snapshot
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(Restored {
        codings,
        lost: all - codings,
    }))
}

/// Delete every trashed document of the project for good; answers how many.
pub async fn empty_trash(pool: &PgPool, project: ProjectId) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "delete from document_trash where project_id = $1",
        project as ProjectId
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// The title of a document of the project whose text is exactly `text`
/// (`chars` code points long), if there is one.
pub async fn identical(
    pool: &PgPool,
    project: ProjectId,
    text: &str,
    chars: usize,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        r#"select title from document
           where project_id = $1 and char_count = $2 and body = $3
           order by document_id limit 1"#,
        project as ProjectId,
        chars as i32,
        text
    )
    .fetch_optional(pool)
    .await
}

/// Every document's id and title, in list order: what the coding page
/// needs to move between documents (no counts, unlike [`list`]).
pub async fn titles(pool: &PgPool, project: ProjectId) -> sqlx::Result<Vec<(DocumentId, String)>> {
    let rows = sqlx::query!(
        r#"
        select document_id as "id: DocumentId", title from document
        where project_id = $1
        order by lower(title), document_id
        "#,
        project as ProjectId
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.title)).collect())
}
