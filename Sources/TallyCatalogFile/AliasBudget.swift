internal import CYaml

/// Refuses YAML whose aliases would make the loader walk far more nodes than the text holds.
///
/// An alias names a node written once, and a chain of anchors can name 10^8 nodes in a few
/// hundred bytes (an "alias bomb"). Yams shares the aliased nodes, so composing stays cheap,
/// but anything that walks the tree walks every expanded node: Yams' duplicate-key check
/// hashes a whole key, and the scenario reader visits every item of a list. This pass reads
/// libyaml's event stream before Yams composes it, counts the nodes each alias stands for,
/// and stops at the first alias past the budget, or at a key that is not plain text (a
/// scenario's keys never are anything else), with that alias's or key's position.
package enum AliasBudget {
    /// How many nodes all the aliases of one file may stand for together.
    package static let expandedNodes = 1_000_000

    /// The first problem of `text`'s aliases and keys, or nil when there is none.
    ///
    /// A syntax error ends the pass with nil: Yams reports it when it composes the text.
    package static func problem(in text: String, file: String) -> Diagnostic? {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var walk = Walk(file: file)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return nil }
                if let problem = walk.read(event) { return problem }
            }
        }
    }

    /// The nodes open around the event being read, and the size of every anchored node so far.
    private struct Walk {
        struct Collection {
            var isMapping: Bool
            var anchor: String?
            /// Nodes inside so far, aliases counted at their expanded size.
            var size = 1
            /// Children read so far: in a mapping, the even ones are keys.
            var children = 0
        }

        let file: String
        var open: [Collection] = []
        var anchorSizes: [String: Int] = [:]
        var expanded = 0

        mutating func read(_ event: yaml_event_t) -> Diagnostic? {
            let mark = event.start_mark
            func problem(_ message: String) -> Diagnostic {
                Diagnostic(file: file, line: mark.line + 1, column: mark.column + 1, message: message)
            }
            let atKey = open.last.map { $0.isMapping && $0.children % 2 == 0 } ?? false
            switch event.type {
            case YAML_SCALAR_EVENT:
                add(size: 1, anchor: AliasBudget.text(event.data.scalar.anchor))
            case YAML_ALIAS_EVENT:
                let name = AliasBudget.text(event.data.alias.anchor) ?? ""
                let size = anchorSizes[name] ?? 1
                if atKey && size > 1 {
                    return problem(
                        "the alias *\(Escaped(name)) stands for a list or a mapping used as a key, "
                            + "expected plain text")
                }
                expanded = expanded.addingReportingOverflow(size).overflow ? .max : expanded + size
                if expanded > AliasBudget.expandedNodes {
                    let limit = AliasBudget.expandedNodes
                    return problem(
                        "with *\(Escaped(name)) the aliases stand for more than \(limit) nodes, "
                            + "expected anchors and aliases that repeat small parts of the file")
                }
                add(size: size, anchor: nil)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                if atKey { return problem("a key is a \(isMapping ? "mapping" : "list"), expected plain text") }
                let anchor =
                    isMapping
                    ? AliasBudget.text(event.data.mapping_start.anchor)
                    : AliasBudget.text(event.data.sequence_start.anchor)
                open.append(Collection(isMapping: isMapping, anchor: anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = open.popLast() else { return nil }
                add(size: closed.size, anchor: closed.anchor)
            default:
                break
            }
            return nil
        }

        /// Counts a finished node in the collection around it, and remembers its size under its anchor.
        private mutating func add(size: Int, anchor: String?) {
            if let anchor { anchorSizes[anchor] = size }
            guard !open.isEmpty else { return }
            let total = open[open.count - 1].size.addingReportingOverflow(size)
            open[open.count - 1].size = total.overflow ? .max : total.partialValue
            open[open.count - 1].children += 1
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}
