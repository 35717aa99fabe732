-- Servers keep who an API token belongs to and its role in a project for a
-- short while (http::askers). Any statement that changes what such a check
-- reads announces it, and every server listening forgets what it kept.
-- A token's last use (noted once a minute) changes nothing a check answers.
create function parley_access_changed() returns trigger
language plpgsql as $$
begin
    perform pg_notify('parley_access', '');
    return null;
end
$$;

create trigger api_token_access_changed
    after update of user_id, token_hash or delete on api_token
    for each statement execute function parley_access_changed();

create trigger app_user_access_changed
    after update or delete on app_user
    for each statement execute function parley_access_changed();

create trigger project_member_access_changed
    after insert or update or delete on project_member
    for each statement execute function parley_access_changed();

create trigger project_access_changed
    after update or delete on project
    for each statement execute function parley_access_changed();
