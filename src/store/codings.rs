//! Codings: a code applied by a coder to a range `[start, end)` of a
//! document, in code points. Each is its own row, so coders working on one
//! document at once never touch each other's work; a coding is written in
//! one statement that checks, against the same snapshot, that the document
//! and the code belong to the project and the range fits the text.

use crate::domain::attribution::{self, TurnSpan};
use crate::domain::code::Colour;
use crate::domain::ids::{CodeId, CodingId, DocumentId, GroupId, ParticipantId, ProjectId, UserId};
use crate::domain::participant::Attributes;
use crate::domain::text::Indexed;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use std::ops::ControlFlow;
use time::OffsetDateTime;

/// The same code on the same range by the same coder, twice.
pub const CODING_ONCE: &str = "coding_once";

#[derive(Debug, thiserror::Error)]
pub enum CodingError {
    #[error("no such coding in this project")]
    NotFound,
    #[error("document {0} is not in this project")]
    NoSuchDocument(DocumentId),
    #[error("code {0} is not in this project's codebook (or is in the trash)")]
    NoSuchCode(CodeId),
    #[error(
        "the range {start}–{end} is outside the document's text, which has {length} characters (positions are code points, end exclusive)"
    )]
    OutOfRange { start: i32, end: i32, length: i32 },
    #[error(
        "this coding was made by someone else; only its coder or a project owner can change it"
    )]
    NotYours,
    #[error("you have already applied this code to exactly this range")]
    Duplicate,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub type Result<T, E = CodingError> = std::result::Result<T, E>;

/// A speaker whose turns a coding overlaps (interviewers left out).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attribution {
    /// `None`: text outside any labelled turn.
    pub label: Option<String>,
    /// `None`: the speaker is not mapped to anyone ("Unassigned").
    pub participant_id: Option<ParticipantId>,
    pub participant: Option<String>,
    pub group_id: Option<GroupId>,
    pub group: Option<String>,
    #[serde(default)]
    pub attributes: Attributes,
}

/// A coding with what a reader or a script needs to use it alone: the
/// covered text, the code, the document, and who said it.
#[derive(Debug, Clone, Serialize)]
pub struct Coding {
    pub id: CodingId,
    pub code_id: CodeId,
    pub document_id: DocumentId,
    /// The coder's user id.
    pub coder: UserId,
    pub coder_name: String,
    pub start: i32,
    pub end: i32,
    pub memo: String,
    pub starred: bool,
    /// The covered text: the document's text from `start` to `end`.
    pub text: String,
    pub code_name: String,
    pub code_colour: Colour,
    pub document_title: String,
    pub speakers: Vec<Attribution>,
    /// The turn the coding starts in (numbered from 1 in the document), or
    /// the last turn before it; none before the first turn.
    pub turn: Option<i32>,
    /// That turn's time mark in the recording, for captioned transcripts.
    pub time_ms: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Filter {
    /// The attribute conditions as two parallel arrays (`None` for none).
    fn attribute_arrays(&self) -> (Option<Vec<String>>, Option<Vec<String>>) {
        if self.attributes.is_empty() {
            return (None, None);
        }
        let (names, values) = self.attributes.iter().cloned().unzip();
        (Some(names), Some(values))
    }
}

/// Whose speech a filter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speech {
    Group(GroupId),
    /// Speakers mapped to no participant.
    Unassigned,
    /// Anyone but an interviewer: what a matrix total counts.
    Anyone,
}

/// Which codings to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Any of these codes.
    pub codes: Option<Vec<CodeId>>,
    /// Any of these documents.
    pub documents: Option<Vec<DocumentId>>,
    pub coder: Option<UserId>,
    pub speech: Option<Speech>,
    /// Participant attributes `(name, value)` that one speaker the coding
    /// overlaps has, all of them (a matrix column's and the matrix's own
    /// participant filter, say).
    pub attributes: Vec<(String, String)>,
    pub starred: Option<bool>,
    /// Only codings that share a character with a coding of this code.
    pub overlapping: Option<CodeId>,
}

struct Row {
    id: CodingId,
    code_id: CodeId,
    document_id: DocumentId,
    coder: UserId,
    coder_name: String,
    start: i32,
    end: i32,
    memo: String,
    starred: bool,
    code_name: String,
    code_colour: Colour,
    document_title: String,
    speakers: Json<Vec<Attribution>>,
    turn: Option<i32>,
    time_ms: Option<i64>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    total: i64,
    body: Option<String>,
    /// The labels of the parts, in order, when speakers are resolved by the
    /// caller's [`SpeakerMap`] rather than in SQL.
    labels: Option<Vec<String>>,
}

/// Codings of live codes that match `filter`, by document and position, and
/// how many match in all.
pub async fn list(
    pool: &PgPool,
    project: ProjectId,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<Coding>, i64)> {
    let mut items = Vec::new();
    let mut total = 0;
    for_each(
        pool,
        project,
        filter,
        AtHand::default(),
        limit,
        offset,
        |coding, n| {
            total = n;
            items.push(coding);
            ControlFlow::Continue(())
        },
    )
    .await?;
    if items.is_empty() && offset > 0 {
        total = Box::pin(list(pool, project, filter, 1, 0)).await?.1;
    }
    Ok((items, total))
}

/// Like [`list`], but hands each coding (and the total) to `f` as it
/// arrives from the database, so an export of any size holds one row at a
/// time. `f` may stop the stream early (`ControlFlow::Break`).
///
/// With [`AtHand::speakers`], each coding's speakers are resolved from that
/// map (read once by [`speaker_map`]) instead of being built in SQL for
/// every row — most of the query's time for a long export. With
/// [`AtHand::texts`], each coding's text, turn and time come from them, and
/// the query reads neither the documents' text nor their turns; codings of
/// a document they do not hold (imported since they were gathered) are
/// left out.
pub async fn for_each(
    pool: &PgPool,
    project: ProjectId,
    filter: &Filter,
    at_hand: AtHand<'_>,
    limit: i64,
    offset: i64,
    f: impl FnMut(Coding, i64) -> ControlFlow<()>,
) -> sqlx::Result<()> {
    let AtHand { speakers, texts } = at_hand;
    let codes: Option<Vec<i64>> = filter
        .codes
        .as_ref()
        .map(|c| c.iter().map(|c| c.0).collect());
    let (group, unassigned) = match filter.speech {
        Some(Speech::Group(g)) => (Some(g), None),
        Some(Speech::Unassigned) => (None, Some("unassigned")),
        Some(Speech::Anyone) => (None, Some("anyone")),
        None => (None, None),
    };
    let (attr_name, attr_value) = filter.attribute_arrays();
    let documents: Option<Vec<i64>> = filter
        .documents
        .as_ref()
        .map(|d| d.iter().map(|d| d.0).collect());
    // A list of one document's codings and nothing else (the coding page,
    // a script reading a document) has a query of its own: the general one
    // below, with a dozen optional filters, is planned afresh on every call
    // (4-5 ms), where this one, with no optional parameter and no array
    // (whose length a custom plan would see), is planned once per
    // connection.
    if let (
        Some(&[document]),
        Filter {
            codes: None,
            documents: _,
            coder: None,
            speech: None,
            attributes,
            starred: None,
            overlapping: None,
        },
    ) = (documents.as_deref(), filter)
        && attributes.is_empty()
    {
        // Speakers come from the documents' own speakers, read alongside:
        // building them in SQL for every row was half the query's time.
        let rows = sqlx::query_as!(
            Row,
            r#"
            -- The document's codings first, whatever the statistics say (a
            -- new project's can claim the codebook is empty and start from
            -- it), then the page; names and texts in subqueries, which are
            -- planned on their own (a join of all of them took longer to
            -- plan than to run).
            with theirs as materialized (
                select g.coding_id, g.code_id, g.document_id, g.coder_id, g.start_pos, g.end_pos,
                       g.memo, g.starred, g.created_at, g.updated_at
                from coding g
                -- The project through the document's key (see `fingerprint`).
                where g.document_id = $2
                  and (select d.project_id from document d where d.document_id = $2) = $1
            ),
            page as (
                select g.*, c.name as code_name, c.colour as code_colour,
                       d.title as document_title, lower(d.title) as title_key,
                       count(*) over () as total
                from theirs g
                join code c on c.code_id = g.code_id and c.deleted_at is null
                join document d on d.document_id = g.document_id
                order by lower(d.title), g.document_id, g.start_pos, g.end_pos, g.coding_id
                limit $3 offset $4
            )
            select g.coding_id as "id!: CodingId", g.code_id as "code_id!: CodeId",
                   g.document_id as "document_id!: DocumentId", g.coder_id as "coder!: UserId",
                   (select u.name from app_user u where u.user_id = g.coder_id) as "coder_name!",
                   g.start_pos as "start!", g.end_pos as "end!", g.memo as "memo!",
                   g.starred as "starred!", g.code_name as "code_name!",
                   g.code_colour as "code_colour!: Colour", g.document_title as "document_title!",
                   '[]'::jsonb as "speakers!: Json<Vec<Attribution>>",
                   tt.turn_no as "turn?", tt.time_ms as "time_ms?",
                   g.created_at as "created_at!", g.updated_at as "updated_at!",
                   g.total as "total!",
                   case when lag(g.document_id) over w is distinct from g.document_id
                        then (select d.body from document d where d.document_id = g.document_id)
                   end as body,
                   array(select cp.label from coding_part cp
                         where cp.coding_id = g.coding_id order by cp.first_pos) as labels
            from page g
            left join lateral (
                select t.turn_no, t.time_ms from turn t
                where t.document_id = g.document_id and t.start_pos <= g.start_pos
                order by t.start_pos desc limit 1
            ) tt on true
            window w as (order by g.title_key, g.document_id, g.start_pos, g.end_pos, g.coding_id)
            order by g.title_key, g.document_id, g.start_pos, g.end_pos, g.coding_id
            "#,
            project as ProjectId,
            document,
            limit,
            offset
        )
        .fetch_all(pool);
        let document = DocumentId(document);
        let (map, rows) =
            futures_util::try_join!(speaker_map(pool, project, Some(document)), rows)?;
        let rows = futures_util::stream::iter(rows.into_iter().map(Ok));
        return drive(rows, Some(&map), None, f).await;
    }
    let rows = sqlx::query_as!(
        Row,
        r#"
        -- First the page (ids, order and the total), then the speakers of
        -- those rows only: building every match's speaker list first cost
        -- seconds for a theme with ten thousand excerpts. Documents are put
        -- in title order once, so rows sort by a number instead of lowering
        -- and comparing their document's title, twice. (A page carrying whole rows
        -- instead of ids made an export of every row ~20% faster and a page
        -- of 100 ~30% slower.)
        with docs as materialized (
            select d.document_id,
                   row_number() over (order by lower(d.title), d.document_id) as title_key
            from document d
            where d.project_id = $1
        ),
        page as (
            select g.coding_id, g.document_id, d.title_key, count(*) over () as total
            from coding g
            join code c on c.code_id = g.code_id and c.deleted_at is null
            join docs d on d.document_id = g.document_id
            where g.project_id = $1
              and ($2::bigint[] is null or g.code_id = any($2))
              and ($3::bigint[] is null or g.document_id = any($3))
              and ($4::bigint is null or g.coder_id = $4)
              -- A group and an attribute must hold for the same speaker.
              and (($5::bigint is null and $7::text[] is null)
                   or exists (select 1 from coding_part cp
                              join speaker s on s.document_id = g.document_id and s.label = cp.label
                              join participant p on p.participant_id = s.participant_id
                              where cp.coding_id = g.coding_id
                                and ($5::bigint is null or p.group_id = $5)
                                and ($7::text[] is null
                                     or (select bool_and(p.attributes ->> f.n = f.v)
                                         from unnest($7::text[], $8::text[]) as f (n, v)))))
              -- Anyone: spoken by someone who is not an interviewer.
              -- Unassigned: so, but by no participant.
              and ($6::text is null
                   or (exists (select 1 from coding_part cp
                               left join speaker s on s.document_id = g.document_id
                                                  and s.label = cp.label
                               where cp.coding_id = g.coding_id and s.is_interviewer is not true)
                       and ($6::text <> 'unassigned'
                            or not exists (select 1 from coding_part cp
                                           join speaker s on s.document_id = g.document_id
                                                         and s.label = cp.label
                                           where cp.coding_id = g.coding_id
                                             and s.participant_id is not null))))
              and ($9::boolean is null or g.starred = $9)
              and ($12::bigint is null
                   or exists (select 1 from coding o
                              join code oc on oc.code_id = o.code_id and oc.deleted_at is null
                              where o.document_id = g.document_id and o.code_id = $12
                                and o.coding_id <> g.coding_id
                                and o.start_pos < g.end_pos and g.start_pos < o.end_pos))
            order by d.title_key, g.start_pos, g.end_pos, g.coding_id
            limit $10 offset $11
        )
        select g.coding_id as "id: CodingId", g.code_id as "code_id: CodeId",
               g.document_id as "document_id: DocumentId", g.coder_id as "coder: UserId",
               u.name as coder_name, g.start_pos as start, g.end_pos as end, g.memo, g.starred,
               c.name as code_name, c.colour as "code_colour: Colour", d.title as document_title,
               a.speakers as "speakers!: Json<Vec<Attribution>>",
               tt.turn_no as "turn?", tt.time_ms as "time_ms?",
               g.created_at, g.updated_at, page.total as "total!",
               -- The document's text rides along once per document, to cut
               -- every coding's text from (unless the caller has it: $14).
               case when not $14 and lag(g.document_id) over w is distinct from g.document_id
                    then d.body end as body,
               -- Resolved by the caller ($13 false): only the parts' labels
               -- (an array of a sorted subquery: an ordered aggregate costs a
               -- sort of its own per coding, a third more over an export).
               case when not $13 then
                   array(select cp.label from coding_part cp
                         where cp.coding_id = g.coding_id order by cp.first_pos)
               end as labels
        from page
        join coding g on g.coding_id = page.coding_id
        join code c on c.code_id = g.code_id
        join document d on d.document_id = g.document_id
        join app_user u on u.user_id = g.coder_id
        left join lateral (
            select t.turn_no, t.time_ms from turn t
            where not $14 and t.document_id = g.document_id and t.start_pos <= g.start_pos
            order by t.start_pos desc limit 1
        ) tt on true
        cross join lateral (
            select coalesce(jsonb_agg(jsonb_build_object(
                       'label', nullif(cp.label, ''), 'participant_id', p.participant_id,
                       'participant', p.label, 'group_id', p.group_id, 'group', sg.name,
                       'attributes', coalesce(p.attributes, '{}'::jsonb))
                     order by cp.first_pos), '[]'::jsonb) as speakers
            from coding_part cp
            left join speaker s on s.document_id = g.document_id and s.label = cp.label
            left join participant p on p.participant_id = s.participant_id
            left join stakeholder_group sg on sg.group_id = p.group_id
            where $13 and cp.coding_id = g.coding_id and s.is_interviewer is not true
        ) a
        window w as (order by page.title_key, g.start_pos, g.end_pos, g.coding_id)
        order by page.title_key, g.start_pos, g.end_pos, g.coding_id
        "#,
        project as ProjectId,
        codes.as_deref() as Option<&[i64]>,
        documents.as_deref() as Option<&[i64]>,
        filter.coder as Option<UserId>,
        group as Option<GroupId>,
        unassigned,
        attr_name.as_deref(),
        attr_value.as_deref(),
        filter.starred,
        limit,
        offset,
        filter.overlapping as Option<CodeId>,
        speakers.is_none(),
        texts.is_some()
    )
    .fetch(pool);
    drive(rows, speakers, texts, f).await
}

/// What a caller of [`for_each`] has at hand, for the query to leave out:
/// the speakers (see [`speaker_map`]), and the documents' texts and turns.
#[derive(Default, Clone, Copy)]
pub struct AtHand<'a> {
    pub speakers: Option<&'a SpeakerMap>,
    pub texts: Option<&'a Texts>,
}

/// Documents' texts and turns at hand, by document.
pub type Texts = std::collections::HashMap<DocumentId, std::sync::Arc<crate::domain::text::Text>>;

/// Every speaker of a project's documents as a coding's attribution names
/// it, by document and label; interviewers as `None`.
pub struct SpeakerMap(std::collections::HashMap<(i64, String), Option<Attribution>>);

impl SpeakerMap {
    /// The speakers of parts with these labels (in order), as the SQL of
    /// [`for_each`] builds them: interviewers left out, a label without a
    /// speaker (or none, `""`: text outside any turn) unassigned.
    fn attribute(&self, document: DocumentId, labels: &[String]) -> Vec<Attribution> {
        labels
            .iter()
            .filter_map(|label| match self.0.get(&(document.0, label.clone())) {
                Some(Some(a)) => Some(a.clone()),
                Some(None) => None,
                None => Some(Attribution {
                    label: (!label.is_empty()).then(|| label.clone()),
                    participant_id: None,
                    participant: None,
                    group_id: None,
                    group: None,
                    attributes: Attributes::default(),
                }),
            })
            .collect()
    }
}

/// Read the [`SpeakerMap`] of a project, or of one of its documents (one
/// query; each form without optional parameters, so PostgreSQL plans it
/// once per connection, not on every call).
pub async fn speaker_map(
    pool: &PgPool,
    project: ProjectId,
    document: Option<DocumentId>,
) -> sqlx::Result<SpeakerMap> {
    let rows = match document {
        None => {
            sqlx::query_as!(
                SpeakerRow,
                r#"
                select s.document_id as "document_id!", s.label as "label!",
                       s.is_interviewer as "is_interviewer!",
                       p.participant_id as "participant_id?: ParticipantId", p.label as "participant?",
                       p.group_id as "group_id?: GroupId", sg.name as "group?",
                       p.attributes as "attributes?: Json<Attributes>"
                from speaker s
                left join participant p on p.participant_id = s.participant_id
                left join stakeholder_group sg on sg.group_id = p.group_id
                where s.project_id = $1
                "#,
                project as ProjectId
            )
            .fetch_all(pool)
            .await?
        }
        Some(document) => {
            sqlx::query_as!(
                SpeakerRow,
                r#"
                select s.document_id as "document_id!", s.label as "label!",
                       s.is_interviewer as "is_interviewer!",
                       p.participant_id as "participant_id?: ParticipantId", p.label as "participant?",
                       p.group_id as "group_id?: GroupId", sg.name as "group?",
                       p.attributes as "attributes?: Json<Attributes>"
                from speaker s
                left join participant p on p.participant_id = s.participant_id
                left join stakeholder_group sg on sg.group_id = p.group_id
                where s.project_id = $1 and s.document_id = $2
                "#,
                project as ProjectId,
                document as DocumentId
            )
            .fetch_all(pool)
            .await?
        }
    };
    Ok(SpeakerMap(
        rows.into_iter()
            .map(|r| {
                let a = (!r.is_interviewer).then(|| Attribution {
                    label: (!r.label.is_empty()).then(|| r.label.clone()),
                    participant_id: r.participant_id,
                    participant: r.participant,
                    group_id: r.group_id,
                    group: r.group,
                    attributes: r.attributes.map(|a| a.0).unwrap_or_default(),
                });
                ((r.document_id, r.label), a)
            })
            .collect(),
    ))
}

/// A speaker as [`speaker_map`] reads it.
struct SpeakerRow {
    document_id: i64,
    label: String,
    is_interviewer: bool,
    participant_id: Option<ParticipantId>,
    participant: Option<String>,
    group_id: Option<GroupId>,
    group: Option<String>,
    attributes: Option<Json<Attributes>>,
}

/// Hand each row to `f` as a [`Coding`], its text cut from its document's
/// text (sent once per document: PostgreSQL's substr would decompress the
/// whole document for every row).
async fn drive(
    mut rows: impl futures_util::Stream<Item = sqlx::Result<Row>> + Unpin,
    speakers: Option<&SpeakerMap>,
    texts: Option<&Texts>,
    mut f: impl FnMut(Coding, i64) -> ControlFlow<()>,
) -> sqlx::Result<()> {
    let mut current: Option<(DocumentId, Indexed)> = None;
    while let Some(mut r) = rows.try_next().await? {
        let total = r.total;
        if let Some(body) = r.body {
            current = Some((r.document_id, Indexed::new(body)));
        }
        let (start, end) = (r.start as usize, r.end as usize);
        let text = match texts.map(|t| t.get(&r.document_id)) {
            // The caller has the text (and turns): the query left them out.
            Some(Some(text)) => {
                if let Some(turn) = text.turn_at(start) {
                    r.turn = Some(turn.no);
                    r.time_ms = turn.time_ms;
                }
                text.slice(start, end).to_owned()
            }
            // A document imported after the texts were gathered: its
            // codings came after the export began, and are left to the
            // next one.
            Some(None) => continue,
            None => current
                .as_ref()
                .map(|(_, ix)| ix.slice(start, end).to_owned())
                .unwrap_or_default(),
        };
        let step = f(
            Coding {
                id: r.id,
                code_id: r.code_id,
                document_id: r.document_id,
                coder: r.coder,
                coder_name: r.coder_name,
                start: r.start,
                end: r.end,
                memo: r.memo,
                starred: r.starred,
                text,
                code_name: r.code_name,
                code_colour: r.code_colour,
                document_title: r.document_title,
                speakers: match (speakers, r.labels) {
                    (Some(map), Some(labels)) => map.attribute(r.document_id, &labels),
                    _ => r.speakers.0,
                },
                turn: r.turn,
                time_ms: r.time_ms,
                created_at: r.created_at,
                updated_at: r.updated_at,
            },
            total,
        );
        if step.is_break() {
            break;
        }
    }
    Ok(())
}

/// Candidate quotes for a theme table: for each of `codes`, its starred
/// codings first, then the rest in document order, at most `per_code` —
/// all in one query. Only codings attributed to someone (not interviewer
/// turns alone), within the documents, coder and attribute asked for.
pub async fn quote_candidates(
    pool: &PgPool,
    project: ProjectId,
    codes: &[CodeId],
    filter: &Filter,
    per_code: i64,
) -> sqlx::Result<Vec<Coding>> {
    let codes: Vec<i64> = codes.iter().map(|c| c.0).collect();
    let documents: Option<Vec<i64>> = filter
        .documents
        .as_ref()
        .map(|d| d.iter().map(|d| d.0).collect());
    let (attr_name, attr_value) = filter.attribute_arrays();
    let rows = sqlx::query_as!(
        Row,
        r#"
        with ranked as (
            select g.coding_id, g.code_id, g.starred, lower(d.title) as title_key,
                   g.document_id, g.start_pos, g.end_pos,
                   row_number() over (partition by g.code_id
                                      order by g.starred desc, lower(d.title), g.document_id,
                                               g.start_pos, g.end_pos, g.coding_id) as rank
            from coding g
            join code c on c.code_id = g.code_id and c.deleted_at is null
            join document d on d.document_id = g.document_id
            where g.project_id = $1 and g.code_id = any($2)
              and ($3::bigint[] is null or g.document_id = any($3))
              and ($4::bigint is null or g.coder_id = $4)
              and exists (select 1 from coding_part cp
                          left join speaker s on s.document_id = g.document_id
                                             and s.label = cp.label
                          left join participant p on p.participant_id = s.participant_id
                          where cp.coding_id = g.coding_id and s.is_interviewer is not true
                            and ($5::text[] is null
                                 or (select bool_and(p.attributes ->> f.n = f.v)
                                     from unnest($5::text[], $6::text[]) as f (n, v))))
        ),
        page as (select * from ranked where rank <= $7)
        select g.coding_id as "id: CodingId", g.code_id as "code_id: CodeId",
               g.document_id as "document_id: DocumentId", g.coder_id as "coder: UserId",
               u.name as coder_name, g.start_pos as start, g.end_pos as end, g.memo, g.starred,
               c.name as code_name, c.colour as "code_colour: Colour", d.title as document_title,
               a.speakers as "speakers!: Json<Vec<Attribution>>",
               tt.turn_no as "turn?", tt.time_ms as "time_ms?",
               g.created_at, g.updated_at, 0::bigint as "total!",
               case when lag(g.document_id) over w is distinct from g.document_id
                    then d.body end as body,
               null::text[] as labels
        from page
        join coding g on g.coding_id = page.coding_id
        join code c on c.code_id = g.code_id
        join document d on d.document_id = g.document_id
        join app_user u on u.user_id = g.coder_id
        left join lateral (
            select t.turn_no, t.time_ms from turn t
            where t.document_id = g.document_id and t.start_pos <= g.start_pos
            order by t.start_pos desc limit 1
        ) tt on true
        cross join lateral (
            select coalesce(jsonb_agg(jsonb_build_object(
                       'label', nullif(cp.label, ''), 'participant_id', p.participant_id,
                       'participant', p.label, 'group_id', p.group_id, 'group', sg.name,
                       'attributes', coalesce(p.attributes, '{}'::jsonb))
                     order by cp.first_pos), '[]'::jsonb) as speakers
            from coding_part cp
            left join speaker s on s.document_id = g.document_id and s.label = cp.label
            left join participant p on p.participant_id = s.participant_id
            left join stakeholder_group sg on sg.group_id = p.group_id
            where cp.coding_id = g.coding_id and s.is_interviewer is not true
        ) a
        window w as (order by page.title_key, g.document_id, g.start_pos, g.end_pos, g.coding_id)
        order by page.title_key, g.document_id, g.start_pos, g.end_pos, g.coding_id
        "#,
        project as ProjectId,
        &codes,
        documents.as_deref() as Option<&[i64]>,
        filter.coder as Option<UserId>,
        attr_name.as_deref(),
        attr_value.as_deref(),
        per_code
    )
    .fetch(pool);
    let mut out = Vec::new();
    drive(rows, None, None, |c, _| {
        out.push(c);
        ControlFlow::Continue(())
    })
    .await?;
    Ok(out)
}

pub async fn get(pool: &PgPool, project: ProjectId, id: CodingId) -> sqlx::Result<Option<Coding>> {
    // By its key: the list query's optional filters would plan as a scan of
    // the project's codings once PostgreSQL settles on a generic plan.
    let row = sqlx::query!(
        r#"
        select g.coding_id as "id: CodingId", g.code_id as "code_id: CodeId",
               g.document_id as "document_id: DocumentId", g.coder_id as "coder: UserId",
               u.name as coder_name, g.start_pos as start, g.end_pos as end, g.memo, g.starred,
               substr(d.body, g.start_pos + 1, g.end_pos - g.start_pos) as "text!",
               c.name as code_name, c.colour as "code_colour: Colour", d.title as document_title,
               (select coalesce(jsonb_agg(jsonb_build_object(
                           'label', nullif(cp.label, ''), 'participant_id', p.participant_id,
                           'participant', p.label, 'group_id', p.group_id, 'group', sg.name,
                           'attributes', coalesce(p.attributes, '{}'::jsonb))
                         order by cp.first_pos), '[]'::jsonb)
                from coding_part cp
                left join speaker s on s.document_id = g.document_id and s.label = cp.label
                left join participant p on p.participant_id = s.participant_id
                left join stakeholder_group sg on sg.group_id = p.group_id
                where cp.coding_id = g.coding_id and s.is_interviewer is not true)
                 as "speakers!: Json<Vec<Attribution>>",
               tt.turn_no as "turn?", tt.time_ms as "time_ms?",
               g.created_at, g.updated_at
        from coding g
        left join lateral (
            select t.turn_no, t.time_ms from turn t
            where t.document_id = g.document_id and t.start_pos <= g.start_pos
            order by t.start_pos desc limit 1
        ) tt on true
        join code c on c.code_id = g.code_id and c.deleted_at is null
        join document d on d.document_id = g.document_id
        join app_user u on u.user_id = g.coder_id
        where g.coding_id = $2 and g.project_id = $1
        "#,
        project as ProjectId,
        id as CodingId
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Coding {
        id: r.id,
        code_id: r.code_id,
        document_id: r.document_id,
        coder: r.coder,
        coder_name: r.coder_name,
        start: r.start,
        end: r.end,
        memo: r.memo,
        starred: r.starred,
        text: r.text,
        code_name: r.code_name,
        code_colour: r.code_colour,
        document_title: r.document_title,
        speakers: r.speakers.0,
        turn: r.turn,
        time_ms: r.time_ms,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }))
}

/// A coding as the coding page draws it: no text (the page has it).
#[derive(Debug, Clone, Serialize)]
pub struct Mark {
    pub id: CodingId,
    pub code_id: CodeId,
    pub coder: UserId,
    pub start: i32,
    pub end: i32,
    pub memo: String,
    pub starred: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Put marks in the order [`marks`] answers them: by start, then end,
/// then id.
pub fn in_text_order(marks: &mut [Mark]) {
    marks.sort_unstable_by_key(|m| (m.start, m.end, m.id));
}

/// Every coding of live codes in one document, in text order.
pub async fn marks(
    pool: &PgPool,
    project: ProjectId,
    document: DocumentId,
) -> sqlx::Result<Vec<Mark>> {
    sqlx::query_as!(
        Mark,
        r#"
        select g.coding_id as "id: CodingId", g.code_id as "code_id: CodeId",
               g.coder_id as "coder: UserId", g.start_pos as start, g.end_pos as end,
               g.memo, g.starred, g.created_at
        from coding g
        join code c on c.code_id = g.code_id and c.deleted_at is null
        -- The project through the document's key (see `fingerprint`).
        where g.document_id = $2
          and (select d.project_id from document d where d.document_id = $2) = $1
        order by g.start_pos, g.end_pos, g.coding_id
        "#,
        project as ProjectId,
        document as DocumentId
    )
    .fetch_all(pool)
    .await
}

/// Changes whenever a coding of the document or any code of the project
/// changes: an ETag for the coding page's polling. A checksum over the
/// rows' contents rather than timestamps, which are taken when a
/// transaction starts and so can arrive out of order: of the codings of
/// live codes (those the page draws) and of every code (a code trashed or
/// restored changes it too). `None`: the document is not in the project.
pub async fn fingerprint(
    pool: &PgPool,
    project: ProjectId,
    document: DocumentId,
) -> sqlx::Result<Option<String>> {
    let row = sqlx::query!(
        r#"
        -- The document's codings by the document's key alone: a document's
        -- codings are its project's. Asked for by project and document too,
        -- the planner chose between their indexes by its statistics, and
        -- statistics that had not yet seen a new project made it read all
        -- of the project's codings to count one document's.
        select coalesce((select project_id = $1 from document where document_id = $2), false)
                 as "found!",
               a.n as "n!", a.codings::text as "codings!",
               k.n as "codes!", k.code_sum::text as "code_sum!"
        from (select count(*) as n,
                     coalesce(sum(hashtextextended(
                         row(g.coding_id, g.code_id, g.start_pos, g.end_pos, g.starred,
                             g.memo)::text, 0)), 0) as codings
              from coding g join code c on c.code_id = g.code_id and c.deleted_at is null
              where g.document_id = $2) a,
             (select count(*) as n,
                     coalesce(sum(hashtextextended(
                         row(code_id, version, parent_id, position, name, colour, shortcut,
                             deleted_at)::text, 0)), 0) as code_sum
              from code where project_id = $1) k
        "#,
        project as ProjectId,
        document as DocumentId
    )
    .fetch_one(pool)
    .await?;
    Ok(row
        .found
        .then(|| format!("{}.{}.{}.{}", row.n, row.codings, row.codes, row.code_sum)))
}

/// A document's [`fingerprint`] and every coder's [`marks`] of it, in one
/// statement (the coding page's feed): the fingerprint's sums are taken
/// over the marks as they are read. `None`: the document is not in the
/// project.
pub async fn feed(
    pool: &PgPool,
    project: ProjectId,
    document: DocumentId,
) -> sqlx::Result<Option<(String, Vec<Mark>)>> {
    let rows = sqlx::query!(
        r#"
        -- The same sums as `fingerprint`'s, one row per mark (or one row
        -- of nulls when there are none).
        select coalesce((select project_id = $1 from document where document_id = $2), false)
                 as "found!",
               count(g.coding_id) over () as "n!",
               -- (The row of nulls hashes too: leave it out.)
               coalesce(sum(hashtextextended(
                   row(g.coding_id, g.code_id, g.start_pos, g.end_pos, g.starred,
                       g.memo)::text, 0)) filter (where g.coding_id is not null) over (), 0)::text
                 as "codings!",
               k.n as "codes!", k.code_sum::text as "code_sum!",
               g.coding_id as "id?: CodingId", g.code_id as "code_id?: CodeId",
               g.coder_id as "coder?: UserId", g.start_pos as "start?", g.end_pos as "end?",
               g.memo as "memo?", g.starred as "starred?", g.created_at as "created_at?"
        from (select count(*) as n,
                     coalesce(sum(hashtextextended(
                         row(code_id, version, parent_id, position, name, colour, shortcut,
                             deleted_at)::text, 0)), 0) as code_sum
              from code where project_id = $1) k
        left join (coding g join code c on c.code_id = g.code_id and c.deleted_at is null)
          on g.document_id = $2
         and (select d.project_id from document d where d.document_id = $2) = $1
        "#,
        project as ProjectId,
        document as DocumentId
    )
    .fetch_all(pool)
    .await?;
    let Some(first) = rows.first().filter(|r| r.found) else {
        return Ok(None);
    };
    let fingerprint = format!(
        "{}.{}.{}.{}",
        first.n, first.codings, first.codes, first.code_sum
    );
    let mut marks: Vec<Mark> = rows
        .into_iter()
        .filter_map(|r| {
            Some(Mark {
                id: r.id?,
                code_id: r.code_id?,
                coder: r.coder?,
                start: r.start?,
                end: r.end?,
                memo: r.memo?,
                starred: r.starred?,
                created_at: r.created_at?,
            })
        })
        .collect();
    in_text_order(&mut marks);
    Ok(Some((fingerprint, marks)))
}

/// A coding to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCoding {
    pub document: DocumentId,
    pub code: CodeId,
    pub start: i32,
    pub end: i32,
    pub memo: String,
}

/// Add a coding; answers it and whether it is new (the same code on the
/// same range by the same coder is not added twice: the first is answered).
///
/// Two round trips: [`prepare`], then [`write`].
pub async fn insert(
    pool: &PgPool,
    project: ProjectId,
    coder: UserId,
    new: NewCoding,
) -> Result<(Coding, bool)> {
    let prepared = prepare(pool, project, new).await?;
    write(pool, coder, prepared).await
}

/// A coding to add, with how it splits over the document's speakers.
#[derive(Debug, PartialEq)]
pub struct Prepared {
    project: ProjectId,
    new: NewCoding,
    parts: Parts,
}

impl Prepared {
    /// A coding of `project`'s document prepared from text already at hand:
    /// `window` is the document's text from `window_start`, covering the
    /// range and the openings of the `turns` it meets (see
    /// [`attribution::parts`]).
    pub fn with_window(
        project: ProjectId,
        new: NewCoding,
        window: &str,
        window_start: usize,
        turns: &[TurnSpan],
    ) -> Prepared {
        let parts = Parts::of(window, window_start, new.start, new.end, turns);
        Prepared {
            project,
            new,
            parts,
        }
    }

    pub fn project(&self) -> ProjectId {
        self.project
    }
}

/// Read what a new coding's attribution needs: the turns the range meets
/// and the text around it, in one query (a document's text and turns never
/// change once stored, so this may run before, or alongside, anything
/// else).
pub async fn prepare(pool: &PgPool, project: ProjectId, new: NewCoding) -> Result<Prepared> {
    match read_parts(pool, project, new.document, new.start, new.end).await? {
        Some(parts) => Ok(Prepared {
            project,
            new,
            parts,
        }),
        None => Err(CodingError::NoSuchDocument(new.document)),
    }
}

/// Write a prepared coding as `coder`'s: one statement writes the coding
/// and its parts together (atomic without a transaction of its own) and
/// answers the coding as [`get`] reads it, its text cut from the window
/// [`prepare`] read.
pub async fn write(pool: &PgPool, coder: UserId, prepared: Prepared) -> Result<(Coding, bool)> {
    let Prepared {
        project,
        new,
        parts,
    } = prepared;
    let inserted = sqlx::query!(
        r#"
        with made as (
            insert into coding (project_id, document_id, code_id, coder_id, start_pos, end_pos, memo)
            select $1, d.document_id, c.code_id, $4, $5, $6, $7
            from document d, code c
            where d.project_id = $1 and d.document_id = $2
              and c.project_id = $1 and c.code_id = $3 and c.deleted_at is null
              and $5 >= 0 and $5 < $6 and $6 <= d.char_count
            on conflict on constraint coding_once do nothing
            returning coding_id, memo, starred, created_at, updated_at
        ),
        parts as (
            insert into coding_part (coding_id, label, first_pos, words)
            select made.coding_id, p.label, p.first_pos, p.words
            from made, unnest($8::text[], $9::integer[], $10::integer[]) as p (label, first_pos, words)
        )
        select m.coding_id as "id: CodingId", u.name as coder_name, m.memo, m.starred,
               c.name as code_name, c.colour as "code_colour: Colour", d.title as document_title,
               -- The parts just written are not visible to this statement:
               -- their labels are the parameters.
               (select coalesce(jsonb_agg(jsonb_build_object(
                           'label', nullif(cp.label, ''), 'participant_id', p.participant_id,
                           'participant', p.label, 'group_id', p.group_id, 'group', sg.name,
                           'attributes', coalesce(p.attributes, '{}'::jsonb))
                         order by cp.first_pos), '[]'::jsonb)
                from unnest($8::text[], $9::integer[]) as cp (label, first_pos)
                left join speaker s on s.document_id = d.document_id and s.label = cp.label
                left join participant p on p.participant_id = s.participant_id
                left join stakeholder_group sg on sg.group_id = p.group_id
                where s.is_interviewer is not true)
                 as "speakers!: Json<Vec<Attribution>>",
               tt.turn_no as "turn?", tt.time_ms as "time_ms?",
               m.created_at, m.updated_at
        from made m
        join code c on c.code_id = $3
        join document d on d.document_id = $2
        join app_user u on u.user_id = $4
        left join lateral (
            select t.turn_no, t.time_ms from turn t
            where t.document_id = $2 and t.start_pos <= $5
            order by t.start_pos desc limit 1
        ) tt on true
        "#,
        project as ProjectId,
        new.document as DocumentId,
        new.code as CodeId,
        coder as UserId,
        new.start,
        new.end,
        new.memo,
        &parts.labels,
        &parts.firsts,
        &parts.words
    )
    .fetch_optional(pool)
    .await;
    match inserted {
        Ok(Some(r)) => {
            let coding = Coding {
                id: r.id,
                code_id: new.code,
                document_id: new.document,
                coder,
                coder_name: r.coder_name,
                start: new.start,
                end: new.end,
                memo: r.memo,
                starred: r.starred,
                text: parts.text,
                code_name: r.code_name,
                code_colour: r.code_colour,
                document_title: r.document_title,
                speakers: r.speakers.0,
                turn: r.turn,
                time_ms: r.time_ms,
                created_at: r.created_at,
                updated_at: r.updated_at,
            };
            return Ok((coding, true));
        }
        Ok(None) => {}
        // The code was merged or emptied from the trash between our read and
        // the foreign-key check.
        Err(e) if crate::store::violated_constraint(&e) == Some("coding_code_fkey") => {
            return Err(CodingError::NoSuchCode(new.code));
        }
        Err(e) => return Err(e.into()),
    }
    // Nothing written: say why.
    let why = sqlx::query!(
        r#"
        select (select char_count from document where project_id = $1 and document_id = $2) as length,
               exists (select 1 from code where project_id = $1 and code_id = $3
                       and deleted_at is null) as "code!",
               (select coding_id from coding
                where project_id = $1 and document_id = $2 and code_id = $3 and coder_id = $4
                  and start_pos = $5 and end_pos = $6 limit 1) as "existing: CodingId"
        "#,
        project as ProjectId,
        new.document as DocumentId,
        new.code as CodeId,
        coder as UserId,
        new.start,
        new.end
    )
    .fetch_one(pool)
    .await?;
    let length = why
        .length
        .ok_or(CodingError::NoSuchDocument(new.document))?;
    if !why.code {
        return Err(CodingError::NoSuchCode(new.code));
    }
    if let Some(existing) = why.existing {
        // Deleted since, or its code trashed: the same as never written.
        let coding = get(pool, project, existing)
            .await?
            .ok_or(CodingError::NotFound)?;
        return Ok((coding, false));
    }
    Err(CodingError::OutOfRange {
        start: new.start,
        end: new.end,
        length,
    })
}

/// Insert a coding row (no parts); `None` when nothing was written (the
/// same coding exists, or the document, code or range is not right).
async fn insert_row(
    conn: &mut PgConnection,
    project: ProjectId,
    coder: UserId,
    new: &NewCoding,
) -> sqlx::Result<Option<CodingId>> {
    sqlx::query_scalar!(
        r#"
        insert into coding (project_id, document_id, code_id, coder_id, start_pos, end_pos, memo)
        select $1, d.document_id, c.code_id, $4, $5, $6, $7
        from document d, code c
        where d.project_id = $1 and d.document_id = $2
          and c.project_id = $1 and c.code_id = $3 and c.deleted_at is null
          and $5 >= 0 and $5 < $6 and $6 <= d.char_count
        on conflict on constraint coding_once do nothing
        returning coding_id as "id: CodingId"
        "#,
        project as ProjectId,
        new.document as DocumentId,
        new.code as CodeId,
        coder as UserId,
        new.start,
        new.end,
        new.memo
    )
    .fetch_optional(conn)
    .await
}

/// Add a coding with its parts inside the caller's transaction; `None`
/// when it exists already or does not fit (see [`insert`] for why).
pub async fn add_in(
    conn: &mut PgConnection,
    project: ProjectId,
    coder: UserId,
    new: &NewCoding,
) -> sqlx::Result<Option<CodingId>> {
    let id = insert_row(conn, project, coder, new).await?;
    if let Some(id) = id {
        write_parts(conn, project, id, new.document, new.start, new.end, true).await?;
    }
    Ok(id)
}

/// How a coding splits over the document's speakers, as columns for
/// `coding_part`.
#[derive(Debug, PartialEq)]
struct Parts {
    /// The coding's own text, cut from the window.
    text: String,
    labels: Vec<String>,
    firsts: Vec<i32>,
    words: Vec<i32>,
}

/// Work out how `[start, end)` splits over the document's speakers (see
/// [`crate::domain::attribution`]) from one query: the turns it meets and
/// one window of text covering it and those turns' openings (time mark,
/// label). `None` when the document is not the project's.
async fn read_parts<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    project: ProjectId,
    document: DocumentId,
    start: i32,
    end: i32,
) -> sqlx::Result<Option<Parts>> {
    let row = sqlx::query!(
        r#"
        with t as (
            select speaker, start_pos, end_pos, turn_no from turn
            where document_id = $2 and start_pos < $4 and end_pos > $3
        ),
        bounds as (
            select least($3, coalesce(min(start_pos), $3)) as ws,
                   greatest($4, coalesce(max(start_pos) + $5, $4)) as we
            from t
        )
        select b.ws as "window_start!",
               substr(d.body, b.ws + 1, greatest(least(b.we, d.char_count) - b.ws, 0)) as "window!",
               coalesce((select array_agg(t.speaker order by t.turn_no) from t), '{}') as "speakers!: Vec<Option<String>>",
               coalesce((select array_agg(t.start_pos order by t.turn_no) from t), '{}') as "starts!: Vec<i32>",
               coalesce((select array_agg(t.end_pos order by t.turn_no) from t), '{}') as "ends!: Vec<i32>"
        from document d, bounds b
        where d.project_id = $1 and d.document_id = $2
        "#,
        project as ProjectId,
        document as DocumentId,
        start,
        end,
        attribution::OPENING as i32
    )
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let spans: Vec<TurnSpan> = row
        .speakers
        .iter()
        .zip(row.starts.iter().zip(&row.ends))
        .map(|(speaker, (s, e))| TurnSpan {
            speaker: speaker.as_deref(),
            start: *s as usize,
            end: *e as usize,
        })
        .collect();
    Ok(Some(Parts::of(
        &row.window,
        row.window_start as usize,
        start,
        end,
        &spans,
    )))
}

impl Parts {
    /// How `[start, end)` splits over `turns` (those it meets, in order),
    /// `window` being the text from `window_start` that covers the range
    /// and those turns' openings (see [`attribution::parts`]).
    fn of(window: &str, window_start: usize, start: i32, end: i32, turns: &[TurnSpan]) -> Parts {
        let parts = attribution::parts(window, window_start, start as usize, end as usize, turns);
        let skip = (start as usize).saturating_sub(window_start);
        let text = window
            .chars()
            .skip(skip)
            .take((end - start).max(0) as usize)
            .collect();
        Parts {
            text,
            labels: parts
                .iter()
                .map(|p| p.label.clone().unwrap_or_default())
                .collect(),
            firsts: parts.iter().map(|p| p.first as i32).collect(),
            words: parts.iter().map(|p| p.words as i32).collect(),
        }
    }
}

/// Record how the coding `[start, end)` splits over the document's
/// speakers, replacing what was there (nothing, for a `fresh` coding).
async fn write_parts(
    conn: &mut PgConnection,
    project: ProjectId,
    coding: CodingId,
    document: DocumentId,
    start: i32,
    end: i32,
    fresh: bool,
) -> sqlx::Result<()> {
    let Some(parts) = read_parts(&mut *conn, project, document, start, end).await? else {
        return Ok(());
    };
    if !fresh {
        sqlx::query!(
            "delete from coding_part where coding_id = $1",
            coding as CodingId
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        r#"
        insert into coding_part (coding_id, label, first_pos, words)
        select $1, p.label, p.first_pos, p.words
        from unnest($2::text[], $3::integer[], $4::integer[]) as p (label, first_pos, words)
        "#,
        coding as CodingId,
        &parts.labels,
        &parts.firsts,
        &parts.words
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Give an imported coding back its star and its original time.
pub async fn restore(
    pool: &PgPool,
    id: CodingId,
    starred: bool,
    created: Option<OffsetDateTime>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update coding set starred = starred or $2,
                  created_at = coalesce($3, created_at), updated_at = coalesce($3, updated_at)
           where coding_id = $1"#,
        id as CodingId,
        starred,
        created
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Changes to a coding; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CodingChanges {
    pub memo: Option<String>,
    pub starred: Option<bool>,
    pub range: Option<(i32, i32)>,
    pub code: Option<CodeId>,
}

/// Who is changing a coding: its coder may change anything; a project
/// owner may too; other coders may only star it (choosing quotes is the
/// team's call, the memo and range are the coder's).
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user: UserId,
    pub owner: bool,
}

pub async fn update(
    pool: &PgPool,
    project: ProjectId,
    id: CodingId,
    actor: Actor,
    changes: &CodingChanges,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"
        select g.coder_id as "coder: UserId", g.document_id as "document: DocumentId",
               d.char_count
        from coding g
        join code c on c.code_id = g.code_id and c.deleted_at is null
        join document d on d.document_id = g.document_id
        where g.project_id = $1 and g.coding_id = $2
        for update of g
        "#,
        project as ProjectId,
        id as CodingId
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(CodingError::NotFound)?;
    let only_star = changes.memo.is_none() && changes.range.is_none() && changes.code.is_none();
    if row.coder != actor.user && !actor.owner && !only_star {
        return Err(CodingError::NotYours);
    }
    if let Some((start, end)) = changes.range
        && !(0 <= start && start < end && end <= row.char_count)
    {
        return Err(CodingError::OutOfRange {
            start,
            end,
            length: row.char_count,
        });
    }
    if let Some(code) = changes.code
        && !crate::store::codes::is_live(&mut tx, project, code).await?
    {
        return Err(CodingError::NoSuchCode(code));
    }
    let (start, end) = changes.range.unzip();
    sqlx::query!(
        r#"
        update coding set
            memo = coalesce($3, memo),
            starred = coalesce($4, starred),
            start_pos = coalesce($5, start_pos),
            end_pos = coalesce($6, end_pos),
            code_id = coalesce($7, code_id),
            updated_at = now()
        where project_id = $1 and coding_id = $2
        "#,
        project as ProjectId,
        id as CodingId,
        changes.memo,
        changes.starred,
        start,
        end,
        changes.code as Option<CodeId>
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| match crate::store::violated_constraint(&e) {
        Some(CODING_ONCE) => CodingError::Duplicate,
        _ => e.into(),
    })?;
    if let Some((start, end)) = changes.range {
        write_parts(&mut tx, project, id, row.document, start, end, false).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Remove a coding (its coder or an owner); answers it as it was, so it can
/// be put back.
pub async fn delete(
    pool: &PgPool,
    project: ProjectId,
    id: CodingId,
    actor: Actor,
) -> Result<Coding> {
    let coding = get(pool, project, id).await?.ok_or(CodingError::NotFound)?;
    if coding.coder != actor.user && !actor.owner {
        return Err(CodingError::NotYours);
    }
    let gone = sqlx::query!(
        "delete from coding where project_id = $1 and coding_id = $2",
        project as ProjectId,
        id as CodingId
    )
    .execute(pool)
    .await?;
    if gone.rows_affected() == 0 {
        return Err(CodingError::NotFound);
    }
    Ok(coding)
}
