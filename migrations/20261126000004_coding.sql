-- The codebook, codings and memos.
--
-- Codes form a tree per project. Deleting a code moves it and its sub-codes
-- to a trash (deleted_at set on the whole subtree in one transaction, so the
-- shared timestamp says which codes went together); their codings stay, are
-- hidden, and come back on restore. Emptying the trash deletes for good.
-- Codings address document text by code-point ranges [start, end). As in
-- 0003, composite foreign keys carry project_id, so a coding can never join
-- a code and a document of different projects.

create table code (
    code_id     bigint generated always as identity primary key,
    project_id  bigint not null references project on delete cascade,
    parent_id   bigint,
    name        text not null,
    colour      text not null,
    definition  text not null default '',
    inclusion   text not null default '',
    exclusion   text not null default '',
    example     text not null default '',
    shortcut    text,
    -- Order among siblings.
    position    integer not null,
    memo        text not null default '',
    memo_by     bigint references app_user on delete set null,
    memo_at     timestamptz,
    -- Bumped by every change, so a second editor working from an old copy
    -- is told instead of silently overwriting the first.
    version     integer not null default 1,
    deleted_at  timestamptz,
    deleted_by  bigint references app_user on delete set null,
    created_by  bigint references app_user on delete set null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint code_project_key unique (project_id, code_id),
    constraint code_parent_fkey foreign key (project_id, parent_id)
        references code (project_id, code_id) on delete cascade,
    constraint code_not_own_parent check (parent_id <> code_id),
    constraint code_name_not_blank check (btrim(name) <> ''),
    constraint code_colour_hex check (colour ~ '^#[0-9a-f]{6}$'),
    constraint code_shortcut_one_char check (char_length(shortcut) = 1)
);

-- Sibling names are unique among live codes, regardless of case.
create unique index code_sibling_name_key on code (project_id, coalesce(parent_id, 0), lower(name))
    where deleted_at is null;
create unique index code_shortcut_key on code (project_id, shortcut)
    where deleted_at is null and shortcut is not null;
create index code_parent_idx on code (parent_id) where parent_id is not null;

create table coding (
    coding_id   bigint generated always as identity primary key,
    project_id  bigint not null,
    document_id bigint not null,
    code_id     bigint not null,
    coder_id    bigint not null references app_user on delete restrict,
    start_pos   integer not null,
    end_pos     integer not null,
    memo        text not null default '',
    -- An illustrative quote for the theme table.
    starred     boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint coding_document_fkey foreign key (project_id, document_id)
        references document (project_id, document_id) on delete cascade,
    constraint coding_code_fkey foreign key (project_id, code_id)
        references code (project_id, code_id) on delete cascade,
    constraint coding_range_valid check (0 <= start_pos and start_pos < end_pos),
    -- A coder applies a code to a passage once: a double click, a retry or
    -- a merge must not count the same passage twice.
    constraint coding_once unique (document_id, code_id, coder_id, start_pos, end_pos)
);

create index coding_document_idx on coding (document_id, start_pos);
create index coding_code_idx on coding (code_id);
create index coding_project_idx on coding (project_id, coder_id);

-- How each coding splits over the speakers whose turns it covers: one row
-- per speaker label ('' for text outside any labelled turn), with the words
-- of the coded text that speaker said. Turns never change after import, so
-- this is written once with the coding (and again if its range changes);
-- the speaker → participant mapping, which can change, is joined when
-- counting. It is what the theme matrix counts, without re-reading text.
create table coding_part (
    coding_id   bigint not null references coding on delete cascade,
    label       text not null,
    -- Where the coding first meets this speaker (code points).
    first_pos   integer not null,
    words       integer not null,
    constraint coding_part_pkey primary key (coding_id, label),
    constraint coding_part_words_valid check (words >= 0)
);

-- Memos on a document and on the project (codings and codes carry theirs).
alter table document
    add column memo    text not null default '',
    add column memo_by bigint references app_user on delete set null,
    add column memo_at timestamptz;

alter table project
    add column memo    text not null default '',
    add column memo_by bigint references app_user on delete set null,
    add column memo_at timestamptz;
