-- 0008: is_upstream means the upstream destination: a third-party repository, neither the
-- company's, nor the contributor's own (personal), nor a fork. Rows stored when it meant "not a
-- company org" are re-derived from their destination. Running it again changes nothing.
ALTER TABLE contributions UPDATE is_upstream = (destination = 'upstream') WHERE is_upstream != (destination = 'upstream') SETTINGS mutations_sync = 2;
