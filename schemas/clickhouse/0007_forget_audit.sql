-- 0007: the record of every `giveback forget`: when, who ran it, and how many rows, messages
-- and keys it removed where. It never holds the person's logins, e-mails or employee id, nor a
-- hash of them: only how the person was named (login, e-mail, employee id) and how many
-- identities the roster gave them.
CREATE TABLE IF NOT EXISTS forget_audit
(
    request_id  String,
    at          DateTime64(3, 'UTC'),
    actor       String,
    named_by    LowCardinality(String),
    on_roster   UInt8,
    identities  UInt32,
    removed     Map(String, UInt64),
    error       String
)
ENGINE = MergeTree
ORDER BY (at, request_id);
