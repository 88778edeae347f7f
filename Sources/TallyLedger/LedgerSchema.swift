import GRDB

/// The ledger's tables, created and upgraded by numbered migrations (documented in Docs/Ledger.md).
///
/// Amounts and quantities are TEXT holding exact decimal strings (never REAL, which
/// would round them); instants are INTEGER milliseconds since the epoch, in the
/// scenario's simulated time. A migration, once released, is never edited: a
/// change to the layout is a new migration, so old ledgers keep opening.
enum LedgerSchema {
    /// The identifier of the first, pre-release layout.
    ///
    /// It had a 15-column `events` with a second B-tree for `UNIQUE(tenant, event_id)`. It was never released, so `v1` below replaced
    /// it in place; a file that still has it is refused with a message saying so.
    static let preReleaseV1 = "v1 runs, events, rejections, dead letters, invoices"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(
            "v1 runs, names, events keyed by (event_id, tenant), rejections, dead letters, invoices"
        ) { db in
            try db.execute(
                sql: """
                    CREATE TABLE runs (
                        id INTEGER PRIMARY KEY,
                        scenario TEXT NOT NULL,
                        seed TEXT NOT NULL,                 -- a UInt64 as text: it may not fit SQLite's INTEGER
                        scenario_sha256 TEXT NOT NULL,      -- of the scenario file's text
                        scenario_yaml TEXT NOT NULL,        -- the text itself: re-rating and replays load its catalog
                        scenario_file TEXT NOT NULL,
                        tool_version TEXT NOT NULL,
                        clock_start INTEGER NOT NULL,       -- simulated: the first period's start (ms)
                        clock_end INTEGER NOT NULL,         -- simulated: the last period's end (ms)
                        last_received_at INTEGER,           -- simulated: the meter's clock when the run finished
                        planned_events INTEGER NOT NULL,
                        received INTEGER,                   -- outcome totals, NULL until the run completes
                        accepted INTEGER,
                        rejected INTEGER,
                        dead_lettered INTEGER,
                        completed INTEGER NOT NULL DEFAULT 0,
                        billing_yaml TEXT,                  -- the catalog a dead-letter replay re-billed with
                        UNIQUE (scenario, seed, scenario_sha256)
                    );

                    -- The few distinct names events repeat millions of times, stored once each;
                    -- an event row holds their numbers.
                    CREATE TABLE tenants (no INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE customers (no INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE metrics (no INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE sources (no INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);

                    -- Accepted events. The uniqueness key is the table itself (WITHOUT ROWID), so an
                    -- insert updates one B-tree, not a table and an index. event_id comes first and
                    -- the table has at most 13 columns: SQLite then compares keys with its fast
                    -- string comparator instead of decoding whole records. The lookup numbers carry
                    -- no REFERENCES clause, which would cost a parent lookup per row.
                    CREATE TABLE events (
                        event_id TEXT NOT NULL,
                        tenant_no INTEGER NOT NULL,         -- tenants.no
                        seq INTEGER NOT NULL,               -- position in the run's stream
                        customer_no INTEGER NOT NULL,       -- customers.no
                        metric_no INTEGER NOT NULL,         -- metrics.no
                        quantity TEXT NOT NULL,
                        timestamp INTEGER NOT NULL,
                        source_no INTEGER NOT NULL,         -- sources.no
                        properties TEXT,                    -- JSON object of strings; NULL when none
                        received_at INTEGER NOT NULL,
                        period INTEGER,                     -- billing period index; NULL outside every period
                        flags INTEGER NOT NULL,             -- 1: late, 2: over a soft limit
                        origin INTEGER NOT NULL,            -- 0: the stream, 1: a dead letter a later replay accepted
                        PRIMARY KEY (event_id, tenant_no)
                    ) WITHOUT ROWID;

                    -- Rejected for good, with the whole event in the columns events uses (no JSON
                    -- built per row), or the text as sent when the input was raw.
                    CREATE TABLE rejections (
                        seq INTEGER PRIMARY KEY,
                        tenant_no INTEGER,                  -- tenants.no; NULL when the input was raw text
                        event_id TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        customer_no INTEGER,                -- customers.no
                        metric_no INTEGER,                  -- metrics.no
                        quantity TEXT,
                        timestamp INTEGER,                  -- the event's
                        source_no INTEGER,                  -- sources.no
                        properties TEXT,                    -- JSON object of strings; NULL when none
                        received_at INTEGER NOT NULL,
                        raw TEXT                            -- the input as sent, when it was raw text
                    );

                    CREATE TABLE dead_letters (
                        seq INTEGER PRIMARY KEY,
                        event_id TEXT,
                        reason TEXT NOT NULL,
                        detail TEXT,                        -- filled in when the run finishes
                        payload_kind TEXT NOT NULL,         -- 'event' (its JSON) or 'raw' (the text as sent)
                        payload TEXT NOT NULL,
                        received_at INTEGER NOT NULL,
                        replayed_at INTEGER,                -- simulated time of the replay that took it; NULL while pending
                        replay_outcome TEXT                 -- 'accepted' or 'rejected:<reason>'
                    );

                    CREATE TABLE invoices (
                        id INTEGER PRIMARY KEY,
                        run_id INTEGER NOT NULL REFERENCES runs(id),
                        position INTEGER NOT NULL,          -- billing order: period, then catalog customer order
                        number TEXT NOT NULL,
                        customer TEXT NOT NULL,
                        period_index INTEGER NOT NULL,
                        period_start INTEGER NOT NULL,
                        period_end INTEGER NOT NULL,
                        currency TEXT NOT NULL,
                        destination TEXT NOT NULL,
                        subtotal TEXT NOT NULL,
                        discount_total TEXT NOT NULL,
                        tax_total TEXT NOT NULL,
                        total TEXT NOT NULL,
                        credits_applied TEXT NOT NULL,
                        amount_due TEXT NOT NULL,
                        UNIQUE (run_id, number)
                    );

                    CREATE TABLE invoice_lines (
                        invoice_id INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        metric TEXT,
                        quantity TEXT,                      -- priced quantity; metered = quantity + rollover_units_used
                        rollover_units_used TEXT NOT NULL,
                        unrounded_amount TEXT NOT NULL,
                        amount TEXT NOT NULL,
                        PRIMARY KEY (invoice_id, position)
                    );

                    -- Events as they were sent, names and all: what queries by hand read.
                    CREATE VIEW events_view AS
                    SELECT e.seq, t.name AS tenant, e.event_id, c.name AS customer, m.name AS metric, e.quantity,
                           e.timestamp, s.name AS source, e.properties, e.received_at, e.period,
                           e.flags & 1 AS late, (e.flags & 2) / 2 AS over_soft_limit,
                           CASE e.origin WHEN 0 THEN 'stream' ELSE 'replay' END AS origin
                    FROM events e
                    JOIN tenants t ON t.no = e.tenant_no
                    JOIN customers c ON c.no = e.customer_no
                    JOIN metrics m ON m.no = e.metric_no
                    JOIN sources s ON s.no = e.source_no;
                    """)
        }
        migrator.registerMigration("v2 service requests: idempotency keys of tally-server's ingest") { db in
            try db.execute(
                sql: """
                    -- A batch ingest request tally-server answered, by the client's Idempotency-Key: a retry with
                    -- the same key and body gets this response again instead of being metered twice.
                    CREATE TABLE service_requests (
                        tenant TEXT NOT NULL,
                        key TEXT NOT NULL,
                        body_sha256 TEXT NOT NULL,          -- of the request body as received (before gzip decoding)
                        response TEXT NOT NULL,             -- the JSON answered with the 202
                        PRIMARY KEY (tenant, key)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v3 refusals: requests the gateway refused, and the run's count of them") { db in
            try db.execute(
                sql: """
                    -- A request the gateway refused (canAccess): it never became an event, so it is in no other
                    -- table. Its seq is its position in the run's stream, numbered with the events'.
                    CREATE TABLE refusals (
                        seq INTEGER PRIMARY KEY,
                        request_id TEXT NOT NULL,           -- the id its usage event would have had
                        tenant_no INTEGER NOT NULL,         -- tenants.no
                        customer_no INTEGER NOT NULL,       -- customers.no (as sent, even when unknown)
                        metric_no INTEGER NOT NULL,         -- metrics.no
                        requested_at INTEGER NOT NULL,      -- simulated: when the request reached the gateway (ms)
                        reason TEXT NOT NULL                -- the refusal's code, e.g. margin_blocked
                    );

                    -- Requests refused at the gateway; NULL until the run completes, and in ledgers recorded
                    -- before refusals were.
                    ALTER TABLE runs ADD COLUMN refused INTEGER;

                    CREATE VIEW refusals_view AS
                    SELECT r.seq, t.name AS tenant, r.request_id, c.name AS customer, m.name AS metric,
                           r.requested_at, r.reason
                    FROM refusals r
                    JOIN tenants t ON t.no = r.tenant_no
                    JOIN customers c ON c.no = r.customer_no
                    JOIN metrics m ON m.no = r.metric_no;
                    """)
        }
        migrator.registerMigration("v4 service requests: when each was answered, for the idempotency window") { db in
            try db.execute(
                sql: """
                    -- Wall-clock milliseconds of the answer: tally-server forgets a key once it is older than its
                    -- idempotency window. Requests answered before this column existed count as answered now.
                    ALTER TABLE service_requests ADD COLUMN answered_at INTEGER NOT NULL DEFAULT 0;
                    UPDATE service_requests SET answered_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
                    CREATE INDEX service_requests_by_age ON service_requests (answered_at);
                    """)
        }
        migrator.registerMigration("v5 service_events: tally-server's accepted events, appended in seq order") { db in
            try db.execute(
                sql: """
                    -- What tally-server accepted, one row per event, keyed by its seq (the rowid): a group commit
                    -- appends its rows at the end of the table's B-tree instead of inserting each at a random place
                    -- of events' (event_id, tenant_no) key. No index on the id: the service's meter decides
                    -- duplicates before an event is written, and is rebuilt from these rows in seq order. Ledgers
                    -- written before keep their service events in events, read along with these.
                    CREATE TABLE service_events (
                        seq INTEGER PRIMARY KEY,            -- position in the service's stream, numbered with
                                                            -- rejections and dead_letters
                        tenant_no INTEGER NOT NULL,         -- tenants.no
                        event_id TEXT NOT NULL,
                        customer_no INTEGER NOT NULL,       -- customers.no
                        metric_no INTEGER NOT NULL,         -- metrics.no
                        quantity TEXT NOT NULL,
                        timestamp INTEGER NOT NULL,
                        source_no INTEGER NOT NULL,         -- sources.no
                        properties TEXT,                    -- JSON object of strings; NULL when none
                        received_at INTEGER NOT NULL,
                        period INTEGER,                     -- billing period index; NULL outside every period
                        flags INTEGER NOT NULL              -- 1: late, 2: over a soft limit
                    );

                    -- The service's events join the recorded ones (origin stream, as they had in events).
                    DROP VIEW events_view;
                    CREATE VIEW events_view AS
                    SELECT e.seq, t.name AS tenant, e.event_id, c.name AS customer, m.name AS metric, e.quantity,
                           e.timestamp, s.name AS source, e.properties, e.received_at, e.period,
                           e.flags & 1 AS late, (e.flags & 2) / 2 AS over_soft_limit,
                           CASE e.origin WHEN 0 THEN 'stream' ELSE 'replay' END AS origin
                    FROM (
                        SELECT seq, tenant_no, event_id, customer_no, metric_no, quantity, timestamp, source_no,
                               properties, received_at, period, flags, origin FROM events
                        UNION ALL
                        SELECT seq, tenant_no, event_id, customer_no, metric_no, quantity, timestamp, source_no,
                               properties, received_at, period, flags, 0 FROM service_events
                    ) e
                    JOIN tenants t ON t.no = e.tenant_no
                    JOIN customers c ON c.no = e.customer_no
                    JOIN metrics m ON m.no = e.metric_no
                    JOIN sources s ON s.no = e.source_no;
                    """)
        }
        return migrator
    }
}
