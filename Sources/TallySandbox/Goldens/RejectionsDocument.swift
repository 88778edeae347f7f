import TallyJSON
import TallyPipeline

/// `Fixtures/<name>/rejections.json`: outcome counts by reason and the first event ids of each.
enum RejectionsDocument {
    /// How many event ids are kept per reason, for debugging a changed count.
    static let sampleSize = 5

    static func json(
        scenario: String, counts: OutcomeCounts, samples: [OutcomeReason: [String]], inputs: [EventFileTally] = []
    ) -> JSONValue {
        func section(_ disposition: OutcomeReason.Disposition) -> JSONValue {
            let reasons = OutcomeReason.allCases.filter { $0.disposition == disposition }.sorted()
            return InvoicesDocument.object(
                reasons.map { reason in
                    (
                        reason.rawValue,
                        InvoicesDocument.object([
                            ("count", .number(String(counts.count(reason)))),
                            ("first_event_ids", .array((samples[reason] ?? []).map { .string($0) })),
                        ])
                    )
                })
        }
        var members: [(String, JSONValue)] = [
            ("scenario", .string(scenario)),
            ("events_in", .number(String(counts.received))),
            ("accepted", .number(String(counts.accepted))),
            ("late", .number(String(counts.late))),
            ("outside_periods", .number(String(counts.outsidePeriods))),
            ("over_soft_limit", .number(String(counts.overSoftLimit))),
            ("rejected", section(.rejected)),
            ("dead_lettered", section(.deadLettered)),
            ("balanced", .bool(counts.isBalanced)),
        ]
        // Only scenarios that read event files have the section, so the others' goldens stay as they were.
        if !inputs.isEmpty { members.append(("event_files", .array(inputs.map(\.json)))) }
        return InvoicesDocument.object(members)
    }
}
