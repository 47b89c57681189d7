-- The audit log: one row per security event, each carrying the SHA-256 of the
-- previous one (a hash chain), so an edited, inserted or deleted row breaks the chain
-- at that point. audit_head holds the last sequence number and hash; appending locks
-- that single row first, which serialises writers across gateway instances.
-- audit_checkpoints records where a prune cut the chain, with an HMAC under a key
-- derived from the master key, so verification can start there.

CREATE TABLE audit_events (
    seq         BIGINT        NOT NULL PRIMARY KEY,
    at_ms       BIGINT        NOT NULL,
    kind        VARCHAR(64)   NOT NULL,
    outcome     VARCHAR(16)   NOT NULL,
    actor       VARCHAR(128),
    client_ip   VARCHAR(64),
    target      VARCHAR(512),
    details     VARCHAR(4096) NOT NULL,
    prev_hash   VARCHAR(64)   NOT NULL,
    hash        VARCHAR(64)   NOT NULL,
    INDEX audit_events_at (at_ms),
    INDEX audit_events_kind (kind, at_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE audit_head (
    id      BIGINT      NOT NULL PRIMARY KEY,
    seq     BIGINT      NOT NULL,
    hash    VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_checkpoints (
    seq         BIGINT      NOT NULL PRIMARY KEY,
    hash        VARCHAR(64) NOT NULL,
    created_at  BIGINT      NOT NULL,
    signature   VARCHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
