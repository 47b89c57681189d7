-- Alerts and automatic responses, shared by every gateway instance.
-- alert_open holds one row per (rule, key) while an alert is open: inserting it is how
-- an instance claims the alert, so several instances never notify twice.
-- blocked_addresses holds the temporary address blocks of automatic responses.

CREATE TABLE alerts (
    id              VARCHAR(36)   NOT NULL PRIMARY KEY,
    rule            VARCHAR(64)   NOT NULL,
    group_key       VARCHAR(512)  NOT NULL,
    state           VARCHAR(16)   NOT NULL,
    severity        VARCHAR(16)   NOT NULL,
    event_count     BIGINT        NOT NULL,
    response        VARCHAR(128)  NOT NULL,
    fired_at        BIGINT        NOT NULL,
    open_until      BIGINT        NOT NULL,
    updated_at      BIGINT        NOT NULL,
    acknowledged_by VARCHAR(128)
);

CREATE TABLE alert_open (
    rule        VARCHAR(64)   NOT NULL,
    group_key   VARCHAR(191)  NOT NULL,
    alert_id    VARCHAR(36)   NOT NULL,
    until_ms    BIGINT        NOT NULL,
    PRIMARY KEY (rule, group_key)
);

CREATE TABLE blocked_addresses (
    ip          VARCHAR(64)   NOT NULL PRIMARY KEY,
    until_ms    BIGINT        NOT NULL,
    reason      VARCHAR(256)  NOT NULL
);
