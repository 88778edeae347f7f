import GRDB

/// The ledger's tables, created and upgraded by numbered migrations (documented in Docs/Ledger.md).
///
/// Amounts and quantities are TEXT holding exact decimal strings (never REAL, which
/// would round them); instants are INTEGER milliseconds since the epoch, in the
/// scenario's simulated time. A migration, once released, is never edited: a
/// change to the layout is a new migration, so old ledgers keep opening.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 runs, events, rejections, dead letters, invoices") { db in
            try db.execute(sql: """
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

                -- Accepted events. seq is the event's position in the run's stream, so
                -- stream order is rowid order and appends go to the end of the table.
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    run_id INTEGER NOT NULL REFERENCES runs(id),
                    tenant TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    customer TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    quantity TEXT NOT NULL,
                    timestamp INTEGER NOT NULL,
                    source TEXT NOT NULL,
                    properties TEXT,                    -- JSON object of strings; NULL when none
                    received_at INTEGER NOT NULL,
                    period INTEGER,                     -- billing period index; NULL outside every period
                    late INTEGER NOT NULL,
                    over_soft_limit INTEGER NOT NULL,
                    origin TEXT NOT NULL,               -- 'stream', or 'replay' for a dead letter accepted later
                    UNIQUE (tenant, event_id)
                );

                CREATE TABLE rejections (
                    seq INTEGER PRIMARY KEY,
                    run_id INTEGER NOT NULL REFERENCES runs(id),
                    event_id TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    received_at INTEGER NOT NULL,
                    payload_kind TEXT NOT NULL,         -- 'event' (its JSON) or 'raw' (the text as sent)
                    payload TEXT NOT NULL
                );

                CREATE TABLE dead_letters (
                    seq INTEGER PRIMARY KEY,
                    run_id INTEGER NOT NULL REFERENCES runs(id),
                    event_id TEXT,
                    reason TEXT NOT NULL,
                    detail TEXT,                        -- filled in when the run finishes
                    payload_kind TEXT NOT NULL,
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
                """)
        }
        return migrator
    }
}
