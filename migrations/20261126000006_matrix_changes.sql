-- Which documents' attribution changed, and in which transaction: servers
-- keep each project's per-coding attribution in memory for the matrix and
-- refresh only the documents named here since their last look (a row is
-- new to a server when its transaction was not yet visible in the snapshot
-- the server last read). Rows older than an hour are pruned; a server
-- whose copy is older than that rebuilds it whole.
create table matrix_change (
    project_id  bigint not null,
    document_id bigint not null,
    xid         xid8 not null default pg_current_xact_id(),
    at          timestamptz not null default now()
);

create index matrix_change_project_idx on matrix_change (project_id, at);

-- Statement-level triggers: one row per document a statement touched, so a
-- bulk load of a million codings writes a few thousand rows, not a million.
create function matrix_change_new() returns trigger language plpgsql as $$
begin
    insert into matrix_change (project_id, document_id)
    select distinct project_id, document_id from new_rows;
    return null;
end $$;

create function matrix_change_old() returns trigger language plpgsql as $$
begin
    insert into matrix_change (project_id, document_id)
    select distinct project_id, document_id from old_rows;
    return null;
end $$;

create trigger coding_inserted after insert on coding
    referencing new table as new_rows for each statement execute function matrix_change_new();
create trigger coding_updated_new after update on coding
    referencing new table as new_rows for each statement execute function matrix_change_new();
create trigger coding_updated_old after update on coding
    referencing old table as old_rows for each statement execute function matrix_change_old();
create trigger coding_deleted after delete on coding
    referencing old table as old_rows for each statement execute function matrix_change_old();

-- A speaker's mapping (participant, interviewer) decides attribution.
create trigger speaker_inserted after insert on speaker
    referencing new table as new_rows for each statement execute function matrix_change_new();
create trigger speaker_updated after update on speaker
    referencing new table as new_rows for each statement execute function matrix_change_new();
create trigger speaker_deleted after delete on speaker
    referencing old table as old_rows for each statement execute function matrix_change_old();

-- `coding_part` needs no trigger: its rows are only ever written together
-- with an insert or update of their coding, which the triggers above see.
