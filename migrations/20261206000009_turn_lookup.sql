-- Excerpts say which turn they start in ("turn 12, 00:03:12"): the turn of
-- a position is found by its start, newest first.
create index turn_document_start_idx on turn (document_id, start_pos);
