-- Deleting a document moves it to the project's trash with everything that
-- belongs to it — turns, speaker mapping, codings with their parts, memos,
-- stars and times, adjudications — kept as one snapshot, and the live rows
-- go. Every other query therefore never sees a trashed document, and
-- restore puts the same rows back under the same ids (so links to the
-- document and its codings work again). Only owners empty the trash.
--
-- The snapshot is each table's rows as JSON (`to_jsonb` of the row), read
-- back with `jsonb_populate_recordset`: a later migration that adds a NOT
-- NULL column to one of these tables must also add it to the snapshots.
create table document_trash (
    document_id bigint primary key,
    project_id  bigint not null references project on delete cascade,
    title       text not null,
    snapshot    jsonb not null,
    codings     integer not null,
    coders      integer not null,
    memos       integer not null,
    deleted_by  bigint references app_user on delete set null,
    deleted_at  timestamptz not null default now()
);

create index document_trash_project_idx on document_trash (project_id, deleted_at desc);
