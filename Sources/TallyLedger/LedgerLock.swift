import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one writer's hold on a ledger: an exclusive `flock` on `LEDGER-lock` beside the file.
///
/// SQLite's own locks last one transaction, so two runs recording into one ledger would take
/// turns batch by batch and both succeed. This lock lasts the whole run. It is on a file of its
/// own, never the database file: on Linux `flock` and SQLite's `fcntl` locks are independent, but
/// on BSD systems they conflict, and closing any descriptor of the database file would drop
/// SQLite's `fcntl` locks. The lock file is removed when the lock is released; one left by a
/// killed run holds no lock (the kernel releases it with the process) and is reused.
final class LedgerLock {
    /// The lock file's path: the ledger's path followed by `-lock`, like SQLite's `-wal` and `-shm`.
    let path: String
    private var descriptor: Int32

    /// Takes the lock of the ledger at `ledgerPath`, waiting up to `timeout` seconds for another holder.
    ///
    /// - Throws: ``LedgerError`` naming the ledger when another process holds the lock past the
    ///   timeout, or when the lock file cannot be made (a folder this user cannot write).
    init(ledgerPath: String, timeout: TimeInterval) throws {
        path = ledgerPath + "-lock"
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw LedgerError.notWritable(
                    ledgerPath, doing: "lock", because: "its lock file \(path): \(String(cString: strerror(errno)))")
            }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                // The holder before us may have removed the file after we opened it: then our lock is
                // on a file nobody else will open, and the lock must be taken again on the new one.
                if Self.sameFile(fd, path) {
                    descriptor = fd
                    return
                }
                close(fd)
                continue
            }
            let problem = errno
            close(fd)
            guard problem == EWOULDBLOCK || problem == EINTR else {
                throw LedgerError("\(ledgerPath): cannot lock the ledger: \(String(cString: strerror(problem)))")
            }
            guard Date() < deadline else {
                throw LedgerError.held(ledgerPath, waited: timeout)
            }
            usleep(50_000)
        }
    }

    deinit { release() }

    /// Removes the lock file and releases the lock; a second call does nothing.
    func release() {
        guard descriptor >= 0 else { return }
        // Removed while still held, so that no one can lock the old file after we let it go.
        unlink(path)
        close(descriptor)
        descriptor = -1
    }

    /// Whether the open descriptor `fd` is the file now at `path`.
    private static func sameFile(_ fd: Int32, _ path: String) -> Bool {
        var open = stat()
        var named = stat()
        guard fstat(fd, &open) == 0, stat(path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }
}
