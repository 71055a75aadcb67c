import PostgresBridge

/// The ledger's schema, as versioned migrations applied in order by `traffic-police migrate`.
///
/// Never edit a migration that has shipped: add the next version instead.
public enum LedgerMigrations {
    public static let all: [PostgresMigration] = [v1, v2, v3, v4, v5, v6]

    /// Events, listings, orders and box-office sales.
    ///
    /// `events.sold` is kept in the same transaction as every order and sale, and its CHECK
    /// makes PostgreSQL itself refuse a ledger that counts more than the capacity (G1).
    static let v1 = PostgresMigration(
        version: 1, name: "ledger",
        sql: """
            CREATE TABLE events (
                id               text PRIMARY KEY,
                name             text NOT NULL,
                capacity         integer NOT NULL CHECK (capacity >= 1),
                safety_stock_ppm integer NOT NULL CHECK (safety_stock_ppm >= 0 AND safety_stock_ppm < 1000000),
                soft_cap_ppm     integer NOT NULL CHECK (soft_cap_ppm > 0 AND soft_cap_ppm <= 1000000 - safety_stock_ppm),
                mode             text NOT NULL DEFAULT 'open' CHECK (mode IN ('open', 'red_alert', 'closed', 'failsafe')),
                sold             integer NOT NULL DEFAULT 0,
                created_at       timestamptz NOT NULL DEFAULT now(),
                updated_at       timestamptz NOT NULL DEFAULT now(),
                CONSTRAINT events_no_oversell CHECK (sold >= 0 AND sold <= capacity)
            );

            CREATE TABLE listings (
                event_id          text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
                platform          text NOT NULL CHECK (platform IN ('eventbrite', 'luma', 'meetup')),
                allocation        integer NOT NULL CHECK (allocation >= 0),
                published         integer NOT NULL DEFAULT 0 CHECK (published >= 0),
                platform_event_id text,
                ticket_class_id   text,
                linked_at         timestamptz,
                fencing_token     bigint NOT NULL DEFAULT 0,
                PRIMARY KEY (event_id, platform)
            );
            CREATE UNIQUE INDEX listings_platform_event ON listings (platform, platform_event_id)
                WHERE platform_event_id IS NOT NULL;

            CREATE TABLE orders (
                event_id          text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
                platform          text NOT NULL CHECK (platform IN ('eventbrite', 'luma', 'meetup')),
                platform_order_id text NOT NULL,
                quantity          integer NOT NULL CHECK (quantity >= 0),
                outcome           text NOT NULL CHECK (outcome IN ('accepted', 'absorbed', 'overbooked')),
                excess            integer NOT NULL DEFAULT 0 CHECK (excess >= 0),
                source            text NOT NULL,
                created_at        timestamptz NOT NULL DEFAULT now(),
                released_at       timestamptz,
                PRIMARY KEY (event_id, platform, platform_order_id)
            );
            COMMENT ON TABLE orders IS
                'One row per platform order (Eventbrite order, Luma guest, Meetup RSVP) of an event, as the event''s Redis orders hash holds it. A release of an order never seen is kept as a tombstone: quantity 0, outcome overbooked, released_at set.';

            CREATE TABLE box_office_sales (
                event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
                id          text NOT NULL,
                quantity    integer NOT NULL CHECK (quantity >= 1),
                approved_by text NOT NULL CHECK (length(btrim(approved_by)) > 0),
                created_at  timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (event_id, id)
            );
            """)

    /// Order amendments: an order's quantity changes after it was decided, or a released order comes back.
    ///
    /// `orders` gains what the Redis orders hash keeps of an amendment (`target`: the quantity the
    /// platform last asked for, NULL when it is the order's own; `version`: the platform's version of
    /// it; `revision`: Redis's count of the order's changes, so that an older change never overwrites
    /// a newer one), and `order_changes` keeps the history of every amendment the ledger applied.
    static let v2 = PostgresMigration(
        version: 2, name: "order amendments",
        sql: """
            ALTER TABLE orders
                ADD COLUMN target   integer CHECK (target >= 0),
                ADD COLUMN version  bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
                ADD COLUMN revision integer NOT NULL DEFAULT 0 CHECK (revision >= 0);

            CREATE TABLE order_changes (
                id                bigserial PRIMARY KEY,
                event_id          text NOT NULL,
                platform          text NOT NULL,
                platform_order_id text NOT NULL,
                change            text NOT NULL,
                from_quantity     integer NOT NULL CHECK (from_quantity >= 0),
                to_quantity       integer NOT NULL CHECK (to_quantity >= 0),
                target            integer NOT NULL CHECK (target >= 0),
                version           bigint NOT NULL,
                revision          integer NOT NULL,
                source            text NOT NULL,
                created_at        timestamptz NOT NULL DEFAULT now(),
                FOREIGN KEY (event_id, platform, platform_order_id)
                    REFERENCES orders (event_id, platform, platform_order_id) ON DELETE CASCADE
            );
            CREATE INDEX order_changes_order ON order_changes (event_id, platform, platform_order_id);
            COMMENT ON TABLE order_changes IS
                'Every amendment of a platform order the ledger applied: tickets held before and after, the quantity the platform asked for, its version and the Redis revision.';
            """)

    /// Rebalancing: the event's fencing counter, and the history of every capacity change.
    ///
    /// `events.fence` is the highest fencing token ever granted for the event, so that a rebuild
    /// of Redis never grants one again. `capacity_changes` keeps each transfer of allocation
    /// between platforms (idempotent per fence and pair of platforms), each capacity published to
    /// a platform, and the event-wide changes (red alert) and failures of the rebalancer.
    static let v3 = PostgresMigration(
        version: 3, name: "capacity changes",
        sql: """
            ALTER TABLE events ADD COLUMN fence bigint NOT NULL DEFAULT 0 CHECK (fence >= 0);

            CREATE TABLE capacity_changes (
                id            bigserial PRIMARY KEY,
                event_id      text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
                platform      text CHECK (platform IN ('eventbrite', 'luma', 'meetup')),
                kind          text NOT NULL CHECK (kind IN ('shrink', 'grow', 'close', 'transfer', 'red_alert',
                                  'publish_failed', 'refused')),
                tickets       integer,
                from_platform text CHECK (from_platform IN ('eventbrite', 'luma', 'meetup')),
                capacity      integer,
                sold          integer,
                fence         bigint NOT NULL,
                confirmed     boolean NOT NULL DEFAULT false,
                detail        text NOT NULL DEFAULT '',
                created_at    timestamptz NOT NULL DEFAULT now(),
                CONSTRAINT capacity_changes_transfer_complete CHECK (kind <> 'transfer'
                    OR (tickets > 0 AND platform IS NOT NULL AND from_platform IS NOT NULL AND from_platform <> platform))
            );
            CREATE INDEX capacity_changes_event ON capacity_changes (event_id, id);
            CREATE UNIQUE INDEX capacity_changes_transfer_once ON capacity_changes (event_id, fence, from_platform, platform)
                WHERE kind = 'transfer';
            COMMENT ON TABLE capacity_changes IS
                'The rebalancer''s history of an event: each transfer of allocation (tickets moved from from_platform to platform, recorded once per fence and pair of platforms), each capacity published to a platform (shrink, grow, close: capacity published, sold = what the platform held then, confirmed once read back), and event-wide or failed steps (red_alert with platform NULL, publish_failed, refused) with their detail.';
            """)

    /// Reconciliation runs: one row per event each time `traffic-police reconcile` compared it with
    /// its platforms — what was read per platform, the drift found (jsonb: one object per order),
    /// how many orders were fixed, the platforms that could not be read, and the outcome.
    static let v4 = PostgresMigration(
        version: 4, name: "reconciliations",
        sql: """
            CREATE TABLE reconciliations (
                id          bigserial PRIMARY KEY,
                event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
                started_at  timestamptz NOT NULL,
                finished_at timestamptz NOT NULL,
                dry_run     boolean NOT NULL,
                orders_read jsonb NOT NULL DEFAULT '{}'::jsonb,
                drift       jsonb NOT NULL DEFAULT '[]'::jsonb,
                drift_count integer NOT NULL DEFAULT 0 CHECK (drift_count >= 0),
                fixed       integer NOT NULL DEFAULT 0 CHECK (fixed >= 0),
                remaining   integer NOT NULL DEFAULT 0 CHECK (remaining >= 0),
                unreadable  jsonb NOT NULL DEFAULT '{}'::jsonb,
                outcome     text NOT NULL CHECK (outcome IN ('agrees', 'fixed', 'drift', 'unreadable', 'failed')),
                detail      text NOT NULL DEFAULT '',
                CHECK (finished_at >= started_at)
            );
            CREATE INDEX reconciliations_event ON reconciliations (event_id, started_at DESC);
            COMMENT ON TABLE reconciliations IS
                'One row per event per run of traffic-police reconcile: orders read per platform ({"luma": 12}), the drift found (one object per order: platform, order_id, kind, platform and ledger quantities), how many drifting orders were fixed and how many still disagree, the platforms that could not be read ({"meetup": "why"}), and the outcome (agrees: no drift; fixed: drift found and fixed; drift: drift left, or found under --dry-run; unreadable: a platform could not be read; failed: the event could not be reconciled, see detail).';
            """)

    /// The operator's fail-safe switch and the daemon instances' own reports (G5), kept outside
    /// Redis since Redis may be what is down.
    ///
    /// `failsafe_switch` holds exactly one row (`id` is always true): whether an operator turned
    /// fail-safe on, who changed it last, why and when; every daemon instance follows it.
    /// `daemon_instances` holds one row per running daemon, rewritten every few seconds (fail-safe or
    /// not, its health state since `state_since`, its status line) and removed when it stops
    /// gracefully; a row not updated for a while belongs to a daemon that is gone.
    static let v5 = PostgresMigration(
        version: 5, name: "fail-safe switch",
        sql: """
            CREATE TABLE failsafe_switch (
                id         boolean PRIMARY KEY DEFAULT true CHECK (id),
                is_on      boolean NOT NULL DEFAULT false,
                changed_by text,
                reason     text,
                changed_at timestamptz
            );
            INSERT INTO failsafe_switch (id, is_on) VALUES (true, false);
            COMMENT ON TABLE failsafe_switch IS
                'The operator''s fail-safe switch (one row): while is_on, every daemon instance stays in fail-safe (sales closed, webhooks spooled, no box office) whatever Redis does. Set with traffic-police failsafe on|off.';

            CREATE TABLE daemon_instances (
                id          text PRIMARY KEY,
                hostname    text NOT NULL,
                pid         integer NOT NULL,
                started_at  timestamptz NOT NULL DEFAULT now(),
                failsafe    boolean NOT NULL,
                state       text NOT NULL CHECK (state IN ('healthy', 'suspect', 'failsafe', 'recovering')),
                state_since timestamptz NOT NULL DEFAULT now(),
                status      text NOT NULL DEFAULT '',
                updated_at  timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX daemon_instances_updated ON daemon_instances (updated_at);
            COMMENT ON TABLE daemon_instances IS
                'One row per running daemon, rewritten every few seconds with its Redis health (state since state_since, failsafe while sales are closed) and removed on graceful shutdown; updated_at older than a few seconds means the daemon is gone.';
            """)

    /// The marker each Redis held when a daemon last took it as its own (G6), kept outside Redis:
    /// a daemon that starts and finds Redis without it (or holding another one, or restarted without
    /// an append-only file) knows Redis lost its data while no daemon watched, and rebuilds and
    /// reconciles before sales open. `redis` names the server and database (`host:port/db`).
    static let v6 = PostgresMigration(
        version: 6, name: "redis markers",
        sql: """
            CREATE TABLE redis_markers (
                redis      text PRIMARY KEY,
                marker     text NOT NULL,
                run_id     text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            COMMENT ON TABLE redis_markers IS
                'The marker key each Redis (host:port/db) held, with its run_id, when a daemon last adopted it; a daemon that starts and finds it gone knows Redis lost data while no daemon watched (G6).';
            """)
}
