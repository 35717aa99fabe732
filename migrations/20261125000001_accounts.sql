-- Accounts: people who sign in, their browser sessions, their API tokens, and
-- the record of failed sign-ins that throttles password guessing.
--
-- Sessions live here rather than in memory so that several app servers can
-- share one database and a restart does not sign everybody out.

create table app_user (
    user_id       bigint generated always as identity primary key,
    email         text not null,
    name          text not null,
    -- PHC string (argon2id); never the password itself.
    password_hash text not null,
    is_admin      boolean not null default false,
    created_at    timestamptz not null default now(),
    constraint app_user_email_not_blank check (btrim(email) <> ''),
    constraint app_user_name_not_blank check (btrim(name) <> '')
);

-- Emails compare case-insensitively: Ann@X.org and ann@x.org are one person.
create unique index app_user_email_key on app_user (lower(email));

-- tower-sessions records. The id is the session cookie's value (a random
-- 128-bit number); `data` holds the user id and flash messages.
create table session (
    session_id text primary key,
    data       jsonb not null,
    expiry     timestamptz not null
);

create index session_expiry_idx on session (expiry);

-- Tokens for scripts (R, Python) sent as `Authorization: Bearer <token>`.
-- Only a SHA-256 of the token is kept: the token is 256 random bits, so a
-- fast hash is enough, and a leaked table does not leak usable tokens.
create table api_token (
    api_token_id bigint generated always as identity primary key,
    user_id      bigint not null references app_user on delete cascade,
    name         text not null,
    token_hash   bytea not null,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    constraint api_token_hash_key unique (token_hash)
);

create index api_token_user_idx on api_token (user_id);

-- One row per failed sign-in; sign-in is refused for an address while it has
-- too many recent rows. Rows older than the window are pruned on the way.
create table login_failure (
    email     text not null,
    failed_at timestamptz not null default now()
);

create index login_failure_email_idx on login_failure (lower(email), failed_at);
