-- The networks each administrator has signed in from (IPv4 /24, IPv6 /48), so a
-- sign-in from a network never seen for that administrator can raise an alert.
CREATE TABLE admin_networks (
    user_id     VARCHAR(36)   NOT NULL,
    network     VARCHAR(64)   NOT NULL,
    first_seen  BIGINT        NOT NULL,
    PRIMARY KEY (user_id, network)
);
