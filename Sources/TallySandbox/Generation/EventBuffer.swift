import TallyPipeline

/// A queue of events that are moved in when made and moved out when metered, never copied.
///
/// An event holds five strings and a property list. Read out of an array, an
/// event handed to the meter is copied first (a retain, and later a release,
/// per reference): twice per event, once for the prefetch and once for the
/// ingest, which was an eighth of a run. Moving each event out of its slot
/// hands the meter the only copy.
///
/// Not thread-safe: one thread fills it (and destroys what is given back) and
/// one drains it, and a batch passes between them under ``BatchProducer``'s lock.
final class EventBuffer: @unchecked Sendable {
    private var base: UnsafeMutablePointer<Event>
    private var capacity: Int
    /// Slots `head..<tail` hold events waiting to be taken, and slots `0..<returned`
    /// events given back after use; the rest are uninitialized.
    private var head = 0
    private var tail = 0
    private var returned = 0
    /// Slots taken before the events were moved to the front (``grow()``): positions go on from them.
    private var slotsDropped = 0

    init(capacity: Int) {
        self.capacity = Swift.max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        removeAll()
        base.deallocate()
    }

    /// Events waiting to be taken.
    var count: Int { tail - head }

    /// Moves `event` in at the end.
    func append(_ event: consuming Event) {
        if tail == capacity { grow() }
        (base + tail).initialize(to: event)
        tail += 1
    }

    /// Moves the first event out; nil when there is none.
    func take() -> Event? {
        guard head < tail else { return nil }
        defer { head += 1 }
        return (base + head).move()
    }

    /// The position the next event appended takes, counted from the first appended since ``removeAll()``.
    var endPosition: Int { slotsDropped + tail }

    /// Moves out the event at `position` (see ``endPosition``) if it is the first waiting; nil otherwise.
    func take(at position: Int) -> Event? {
        position == slotsDropped + head ? take() : nil
    }

    /// Moves a taken event back in, to be destroyed by ``removeAll()`` on whichever thread calls it.
    ///
    /// With two threads the metering thread gives each event back once it is metered,
    /// and the producer, which made it, destroys it when it reuses the buffer: its
    /// releases then cost the metering thread nothing, and they find the reference
    /// counts in the producer's cache, where making the event left them.
    func giveBack(_ event: consuming Event) {
        precondition(returned < head, "EventBuffer.giveBack: more events given back than taken")
        (base + returned).initialize(to: event)
        returned += 1
    }

    /// Lends the event `offset` places after the first to `body`, in place; nil past the end.
    ///
    /// A pointer, so that `body` can read one field without the whole event being copied out.
    func withEvent<Result>(at offset: Int, _ body: (UnsafePointer<Event>) -> Result) -> Result? {
        guard offset >= 0, head + offset < tail else { return nil }
        return body(base + head + offset)
    }

    /// Destroys the events not taken and those given back, and starts again from the first slot.
    func removeAll() {
        base.deinitialize(count: returned)
        (base + head).deinitialize(count: tail - head)
        head = 0
        tail = 0
        returned = 0
        slotsDropped = 0
    }

    private func grow() {
        precondition(returned == 0, "EventBuffer: cannot grow while it holds events given back")
        let larger = UnsafeMutablePointer<Event>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base + head, count: tail - head)
        base.deallocate()
        base = larger
        capacity *= 2
        tail -= head
        slotsDropped += head
        head = 0
    }
}
