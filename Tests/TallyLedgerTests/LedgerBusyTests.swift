import Foundation
import TallySandbox
import Testing

@testable import TallyLedger

@Suite("Ledger errors come before the run, name the file, and wait a few seconds for a lock")
struct LedgerBusyTests {
    @Test("a ledger another run is writing: a clear error naming the file after the busy timeout (issue 18, finding 8)")
    func lockedLedgerIsNamed() throws {
        let path = try LedgerFixtures.folder().appendingPathComponent("busy.sqlite").path
        let yaml = LedgerFixtures.scenario(events: 100, duplicates: 0)
        try LedgerFixtures.record(yaml, into: path)
        // Another run's write transaction, held open on its own connection and thread until the end.
        let other = try Ledger(path: path)
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let released = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? other.queue.inDatabase { db in
                try db.inTransaction(.immediate) {
                    holding.signal()
                    release.wait()
                    return .rollback
                }
            }
            released.signal()
        }
        holding.wait()
        defer {
            release.signal()
            released.wait()
        }

        let started = Date()
        var message = ""
        do {
            _ = try LedgerFixtures.recorder(yaml, into: path)
            Issue.record("recording into a locked ledger was allowed")
        } catch {
            message = "\(error)"
        }
        let waited = Date().timeIntervalSince(started)
        #expect(
            message
                == "\(path): another run holds the ledger (waited 5 s for it); wait for it to finish, or record into another file"
        )
        // It waited for the lock (5 s of busy timeout), not failed at once; a generous upper bound for a busy machine.
        #expect(waited >= 4.5 && waited < 60)
    }
}
