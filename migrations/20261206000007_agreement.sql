-- Intercoder agreement: blind coding, who adjudicates, and the consensus set.
--
-- While `blind` is on, coders and viewers see only their own codings;
-- owners see everyone's. The consensus set is the codings of one account
-- per project (`consensus_id`, an account no one signs in to), written only
-- by adjudication, so the matrix and theme table can count it through
-- their coder filter like any coder. Each decision is kept: who decided
-- what about which stretch of which document, when.

alter table project
    add column blind boolean not null default false,
    add column adjudicator_id bigint references app_user on delete set null,
    add column consensus_id bigint references app_user on delete set null;

create table adjudication (
    adjudication_id bigint generated always as identity primary key,
    project_id      bigint not null,
    document_id     bigint not null,
    code_id         bigint not null,
    coder_a         bigint not null references app_user on delete cascade,
    coder_b         bigint not null references app_user on delete cascade,
    -- The stretch of text the decision is about: the extent of the
    -- overlapping codings of A and B that it settles.
    start_pos       integer not null,
    end_pos         integer not null,
    decision        text not null,
    decided_by      bigint references app_user on delete set null,
    decided_at      timestamptz not null default now(),
    constraint adjudication_document_fkey foreign key (project_id, document_id)
        references document (project_id, document_id) on delete cascade,
    constraint adjudication_code_fkey foreign key (project_id, code_id)
        references code (project_id, code_id) on delete cascade,
    constraint adjudication_range_valid check (0 <= start_pos and start_pos < end_pos),
    constraint adjudication_decision_known
        check (decision in ('keep_a', 'keep_b', 'keep_both', 'drop', 'agreed'))
);

create index adjudication_project_idx on adjudication (project_id, decided_at desc);
create index adjudication_place_idx on adjudication (document_id, code_id, start_pos);
