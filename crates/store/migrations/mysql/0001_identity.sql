-- Identity schema: users, encrypted personal data, sessions, API tokens, throttling.
-- Secrets are never stored in clear: session ids and tokens as SHA-256 hex digests,
-- emails and TOTP secrets as AES-256-GCM ciphertexts (see store::keys).
-- Column types are limited to BIGINT, VARCHAR and BLOB so that every value maps onto
-- sqlx's backend-neutral Any types the same way it does on SQLite.

CREATE TABLE data_keys (
    id          BIGINT       NOT NULL PRIMARY KEY,
    wrapped     BLOB         NOT NULL,
    is_current  BIGINT       NOT NULL DEFAULT 0,
    created_at  BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE users (
    id              VARCHAR(36)   NOT NULL PRIMARY KEY,
    username        VARCHAR(64)   NOT NULL UNIQUE,
    display_name    VARCHAR(256)  NOT NULL,
    email_ct        BLOB,
    email_idx       VARCHAR(64)   UNIQUE,
    roles           VARCHAR(1024) NOT NULL,
    customer_id     VARCHAR(64),
    status          VARCHAR(16)   NOT NULL,
    password_hash   VARCHAR(255)  NOT NULL,
    totp_secret_ct  BLOB,
    totp_enabled    BIGINT        NOT NULL DEFAULT 0,
    totp_last_step  BIGINT,
    created_at      BIGINT        NOT NULL,
    updated_at      BIGINT        NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE recovery_codes (
    user_id     VARCHAR(36)  NOT NULL,
    code_hash   VARCHAR(64)  NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (user_id, code_hash),
    CONSTRAINT recovery_codes_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sessions (
    id_hash       VARCHAR(64)  NOT NULL PRIMARY KEY,
    user_id       VARCHAR(36)  NOT NULL,
    mfa_pending   BIGINT       NOT NULL DEFAULT 0,
    created_at    BIGINT       NOT NULL,
    last_seen_at  BIGINT       NOT NULL,
    expires_at    BIGINT       NOT NULL,
    client_ip     VARCHAR(64),
    INDEX sessions_user (user_id),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE api_tokens (
    id            VARCHAR(36)   NOT NULL PRIMARY KEY,
    user_id       VARCHAR(36)   NOT NULL,
    name          VARCHAR(128)  NOT NULL,
    token_hash    VARCHAR(64)   NOT NULL UNIQUE,
    roles         VARCHAR(1024) NOT NULL,
    created_at    BIGINT        NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT,
    INDEX api_tokens_user (user_id),
    CONSTRAINT api_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE login_throttle (
    key_hash      VARCHAR(64)  NOT NULL PRIMARY KEY,
    failures      BIGINT       NOT NULL,
    window_start  BIGINT       NOT NULL,
    locked_until  BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
