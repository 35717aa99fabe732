-- Projects and who may touch them. Every query on project data is scoped by
-- project_id and checked against project_member: a user who is not a member
-- cannot tell a project exists.

create type project_role as enum ('viewer', 'coder', 'owner');

create table project (
    project_id  bigint generated always as identity primary key,
    name        text not null,
    description text not null default '',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint project_name_not_blank check (btrim(name) <> '')
);

create table project_member (
    project_id bigint not null references project on delete cascade,
    user_id    bigint not null references app_user on delete cascade,
    role       project_role not null,
    added_at   timestamptz not null default now(),
    constraint project_member_pkey primary key (project_id, user_id)
);

-- "Projects I belong to" is the home page's query.
create index project_member_user_idx on project_member (user_id);
