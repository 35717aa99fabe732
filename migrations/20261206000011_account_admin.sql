-- Administrators run accounts from the browser: an account can be disabled
-- (it cannot sign in, and its sessions and API tokens stop working at
-- their next request) and enabled again; a new account, or one whose
-- owner forgot the password, gets a one-time link to set a password (no
-- e-mail server needed: the administrator hands the link over).
alter table app_user add column disabled_at timestamptz;

create table password_link (
    -- SHA-256 of the link's secret; the secret itself is never stored.
    token_hash bytea primary key,
    user_id    bigint not null references app_user on delete cascade,
    created_by bigint references app_user on delete set null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz
);

create index password_link_user_idx on password_link (user_id);
