-- "Code all hits" of a search writes its codings as one batch, so they can
-- be undone as one action: each coding of the batch points at it. A coding
-- outlives its batch's record (the pointer is cleared), never the reverse.
create table coding_batch (
    batch_id   bigint generated always as identity primary key,
    project_id bigint not null references project on delete cascade,
    coder_id   bigint not null references app_user on delete cascade,
    code_id    bigint not null,
    query      text not null,
    exact      boolean not null,
    extent     text not null,
    created    integer not null,
    created_at timestamptz not null default now(),
    undone_at  timestamptz,
    constraint coding_batch_project_key unique (project_id, batch_id),
    constraint coding_batch_extent check (extent in ('match', 'sentence', 'turn'))
);

alter table coding add column batch_id bigint;
alter table coding add constraint coding_batch_fkey foreign key (project_id, batch_id)
    references coding_batch (project_id, batch_id) on delete set null (batch_id);
create index coding_batch_idx on coding (batch_id) where batch_id is not null;
