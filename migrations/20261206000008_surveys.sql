-- Questionnaires: surveys of a project (one row per response), and the
-- scales scored from their items.
--
-- A response keeps its line in the file, so a problem or a value can be
-- traced back to the spreadsheet; its items are a JSON array of numbers
-- (null where blank) in the order of the survey's `items`. Re-importing a
-- survey replaces its responses in one transaction; its scales stay, as
-- long as their items are still there.

create table survey (
    survey_id  bigint generated always as identity primary key,
    project_id bigint not null references project on delete cascade,
    name       text not null,
    file_name  text not null default '',
    -- Every column of the file with what it holds, in file order.
    columns    jsonb not null,
    -- The item columns, in the order of each response's `items`.
    items      text[] not null,
    created_by bigint references app_user on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint survey_name_not_blank check (btrim(name) <> ''),
    constraint survey_project_key unique (project_id, survey_id)
);

create unique index survey_name_key on survey (project_id, lower(name));

create table survey_response (
    survey_id  bigint not null references survey on delete cascade,
    row_no     integer not null,
    respondent text,
    wave       text not null,
    attributes jsonb not null default '{}',
    items      jsonb not null,
    constraint survey_response_pkey primary key (survey_id, row_no)
);

create table scale (
    scale_id   bigint generated always as identity primary key,
    survey_id  bigint not null references survey on delete cascade,
    name       text not null,
    items      text[] not null,
    reverse    text[] not null default '{}',
    min_value  double precision not null,
    max_value  double precision not null,
    score      text not null,
    -- The fewest answered items for a score; null: all of them.
    min_items  integer,
    created_at timestamptz not null default now(),
    constraint scale_name_not_blank check (btrim(name) <> ''),
    constraint scale_range_valid check (min_value < max_value),
    constraint scale_score_known check (score in ('mean', 'sum')),
    constraint scale_min_items_valid check (min_items is null or min_items >= 1)
);

create unique index scale_name_key on scale (survey_id, lower(name));
