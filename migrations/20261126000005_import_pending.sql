-- A project being filled by a project import (.qdpx) is invisible until the
-- import finishes. The importing server holds a session advisory lock on it
-- for the whole import; a project still marked importing whose lock is free
-- was left by a server that died midway, and is removed (see
-- store::projects::remove_abandoned_imports).
alter table project add column importing boolean not null default false;
