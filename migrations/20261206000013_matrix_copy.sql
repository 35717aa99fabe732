-- Each project's matrix attributions as a server last held them (see
-- formats::attributions), so that a server that starts, or restarts, reads
-- them and catches up from the change log instead of attributing every
-- coding again. Servers write it in the background; any server may read
-- any server's copy: `snapshot` and `looked` say which changes it holds.
create table matrix_copy (
    project_id bigint primary key references project (project_id) on delete cascade,
    -- pg_snapshot as text: every change visible in it is in `data`.
    snapshot   text not null,
    -- The database's clock when that snapshot was taken.
    looked     timestamptz not null,
    data       bytea not null,
    saved_at   timestamptz not null default now()
);

-- Already compact: not worth compressing again.
alter table matrix_copy alter column data set storage external;

-- Change rows are now kept for eight days (store::matrix::CHANGES_KEPT_DAYS),
-- not two hours: a copy up to a week old is brought up to date from them.
