-- Transcripts, who speaks in them, and the participants they are.
--
-- A document's text is stored once, normalised (UTF-8, NFC, \n). Turns and
-- (later) codings address it by code-point ranges [start, end). Child rows
-- carry project_id in composite foreign keys, so a speaker can never be mapped
-- to a participant of another project, whatever the application does.

create type document_kind as enum ('interview', 'focus_group', 'other');

-- Stakeholder groups (Staff, Service user, Carer, ...), ordered per project.
create table stakeholder_group (
    group_id   bigint generated always as identity primary key,
    project_id bigint not null references project on delete cascade,
    name       text not null,
    position   integer not null,
    constraint stakeholder_group_project_key unique (project_id, group_id),
    constraint stakeholder_group_name_not_blank check (btrim(name) <> '')
);

create unique index stakeholder_group_name_key on stakeholder_group (project_id, lower(name));

-- A person in the study, by pseudonymous label (unique in the project,
-- regardless of case), with one group and free attributes
-- ({"locality": "North", "wave": "2004"}).
create table participant (
    participant_id bigint generated always as identity primary key,
    project_id     bigint not null references project on delete cascade,
    label          text not null,
    group_id       bigint,
    attributes     jsonb not null default '{}',
    created_at     timestamptz not null default now(),
    constraint participant_project_key unique (project_id, participant_id),
    -- A group in use cannot be deleted: move its participants first.
    constraint participant_group_fkey foreign key (project_id, group_id)
        references stakeholder_group (project_id, group_id) on delete restrict,
    constraint participant_label_not_blank check (btrim(label) <> ''),
    constraint participant_attributes_object check (jsonb_typeof(attributes) = 'object')
);

create unique index participant_label_key on participant (project_id, lower(label));

create table document (
    document_id       bigint generated always as identity primary key,
    project_id        bigint not null references project on delete cascade,
    title             text not null,
    kind              document_kind not null default 'interview',
    held_on           date,
    attributes        jsonb not null default '{}',
    original_filename text,
    -- What it was read from: txt, md, docx, vtt, srt or json.
    source_format     text not null,
    body              text not null,
    -- Length of body in code points, the bound of every range into it.
    char_count        integer not null,
    created_by        bigint references app_user on delete set null,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    constraint document_project_key unique (project_id, document_id),
    constraint document_title_not_blank check (btrim(title) <> ''),
    constraint document_attributes_object check (jsonb_typeof(attributes) = 'object'),
    constraint document_char_count_matches check (char_count = char_length(body))
);

create index document_project_idx on document (project_id, created_at desc);

-- Speaker turns, in order. speaker is null only for caption text that names
-- no one.
create table turn (
    document_id bigint not null references document on delete cascade,
    turn_no     integer not null,
    speaker     text,
    start_pos   integer not null,
    end_pos     integer not null,
    time_ms     bigint,
    constraint turn_pkey primary key (document_id, turn_no),
    constraint turn_range_valid check (0 <= start_pos and start_pos < end_pos)
);

-- Each speaker label of a document, mapped to a participant, to the
-- interviewer role (never attributed to anyone), or to nothing yet
-- ("Unassigned").
create table speaker (
    project_id     bigint not null,
    document_id    bigint not null,
    label          text not null,
    participant_id bigint,
    is_interviewer boolean not null default false,
    constraint speaker_pkey primary key (document_id, label),
    constraint speaker_document_fkey foreign key (project_id, document_id)
        references document (project_id, document_id) on delete cascade,
    -- Deleting a participant unmaps their speakers rather than losing turns.
    constraint speaker_participant_fkey foreign key (project_id, participant_id)
        references participant (project_id, participant_id) on delete set null (participant_id),
    constraint speaker_one_role check (not (is_interviewer and participant_id is not null))
);

create index speaker_participant_idx on speaker (participant_id) where participant_id is not null;

-- Existing projects get the default groups new projects start with.
insert into stakeholder_group (project_id, name, position)
select p.project_id, g.name, g.position
from project p
cross join (values ('Staff', 1), ('Service user', 2), ('Carer', 3)) as g (name, position);
