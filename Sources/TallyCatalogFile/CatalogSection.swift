import TallyPipeline
import Yams

/// Reads the catalog sections of a scenario: metrics, plans, customers, discounts, taxes, credits.
package struct CatalogSection {
    package let reader: NodeReader
    /// Per section (metrics, plans, customers, ...), the index of the YAML list item each catalog value came from.
    ///
    /// Items with errors are left out of the catalog, and one `count:` item makes many customers,
    /// so the two indices differ.
    package private(set) var sectionItems: [String: ItemOrigins] = [:]
    /// Per catalog plan: for each of its charges, the index of its YAML `charges` item, or -1
    /// for a charge made from the plan's shorthand keys (base_fee, included_units, overage_price).
    package private(set) var chargeItems: [[Int]] = []
    /// Each customers item billed on its own anniversary: its `start` and where it is (else where the item
    /// is); for checks that need the schedule (``BillingTermsSection``).
    package private(set) var anniversaryItems: [(node: Node, start: Instant?)] = []

    /// `compactMap`, also returning the index of the item each value came from.
    package static func kept<Item, T>(_ items: [Item], _ read: (Item) -> T?) -> (values: [T], origins: [Int]) {
        var values: [T] = []
        var origins: [Int] = []
        for (index, item) in items.enumerated() {
            if let value = read(item) {
                values.append(value)
                origins.append(index)
            }
        }
        return (values, origins)
    }

    package init(reader: NodeReader) {
        self.reader = reader
    }

    package mutating func metrics(_ node: Node) -> [Metric] {
        guard let items = reader.sequence(node, "metrics") else { return [] }
        let (metrics, origins) = CatalogSection.kept(items) { item -> Metric? in
            guard
                let map = reader.mapping(
                    item, "a metric",
                    allowed: ["key", "aggregation", "property", "group_by", "allow_negative", "cost", "recurring"])
            else { return nil }
            let key = map.required("key", "the metric's name in events").flatMap { reader.string($0, "key") }
            let aggregation = map.required("aggregation", "count, sum, max, unique_count, latest or weighted_sum")
                .flatMap { reader.choice($0, "aggregation", Aggregation.self) }
            let property = map["property"].flatMap { reader.string($0, "property") }
            let groupBy = map["group_by"].flatMap { reader.strings($0, "group_by") } ?? []
            let allowNegative = map["allow_negative"].flatMap { reader.bool($0, "allow_negative") }
            let cost = map["cost"].flatMap { RequestPathSection(reader: reader).unitCost($0) }
            let recurring = map["recurring"].flatMap { reader.bool($0, "recurring") } ?? false
            guard let key else { return nil }
            // A bad aggregation is already reported; keep the metric (sum stands in, a choice no
            // other check objects to) so the charges and traffic naming it are not also reported.
            return Metric(
                key: key, aggregation: aggregation ?? .sum, property: property, groupBy: groupBy,
                allowsNegative: allowNegative, cost: cost, recurring: recurring)
        }
        sectionItems["metrics"] = ItemOrigins(origins)
        return metrics
    }

    package static let planKeys = [
        "id", "charges", "base_fee", "included_units", "overage_price", "metric", "quota",
        "minimum_commitment", "spend_cap", "rollover", "spike_arrest", "margin_guard", "tax_code",
        "prices_include_tax", "pricing_unit", "commitment", "trial", "trial_usage",
    ]

    package mutating func plans(_ node: Node) -> [Plan] {
        guard let items = reader.sequence(node, "plans") else { return [] }
        let (plans, origins) = CatalogSection.kept(items) { item -> (plan: Plan, chargeItems: [Int])? in
            guard let map = reader.mapping(item, "a plan", allowed: CatalogSection.planKeys) else { return nil }
            let id = map.required("id", "the plan's id").flatMap { reader.string($0, "id") }
            var (charges, chargeOrigins) = map["charges"].map { chargeList($0) } ?? ([], [])
            let shorthandKeys = ["base_fee", "included_units", "overage_price"]
            if shorthandKeys.contains(where: map.has) {
                // base_fee + included_units + overage_price is a flat fee plus a graduated charge with a free first tier.
                let baseFee = map["base_fee"].flatMap { reader.decimal($0, "base_fee") }
                if map.has("included_units") || map.has("overage_price") {
                    let metric = map.required(
                        "metric", "the metric the included units count, for included_units and overage_price"
                    ).flatMap { reader.string($0, "metric") }
                    let included = map["included_units"].flatMap { reader.decimal($0, "included_units") } ?? .zero
                    let overage = map.required("overage_price", "the price per unit past the included units").flatMap {
                        reader.decimal($0, "overage_price")
                    }
                    if let metric, let overage {
                        charges += Plan.shorthandCharges(
                            metric: metric, baseFee: baseFee, includedUnits: included, overagePrice: overage)
                    }
                } else if let baseFee {
                    charges.append(Charge(name: "Base fee", metric: nil, model: .flat(amount: baseFee)))
                }
            } else if let metric = map["metric"] {
                reader.fail(metric, "a plan's metric is only used with included_units and overage_price")
            }
            let quotas = map["quota"].map { quotaList($0) } ?? []
            let minimum = map["minimum_commitment"].flatMap { reader.decimal($0, "minimum_commitment") }
            let cap = map["spend_cap"].flatMap { reader.decimal($0, "spend_cap") }
            let rollover = map["rollover"].flatMap { rolloverTerms($0) }
            let spikeArrests = map["spike_arrest"].map { RequestPathSection(reader: reader).spikeArrests($0) } ?? []
            let marginGuard = map["margin_guard"].flatMap { RequestPathSection(reader: reader).marginGuard($0) }
            guard let id else { return nil }
            chargeOrigins += Array(repeating: -1, count: charges.count - chargeOrigins.count)
            var plan = Plan(
                id: id, charges: charges, quotas: quotas, minimumCommitment: minimum, spendCap: cap, rollover: rollover,
                spikeArrests: spikeArrests, marginGuard: marginGuard)
            plan.taxCode = map["tax_code"].flatMap { reader.string($0, "tax_code") }
            plan.pricesIncludeTax = map["prices_include_tax"].flatMap { reader.bool($0, "prices_include_tax") } ?? false
            plan.pricingUnit = map["pricing_unit"].flatMap { pricingUnit($0) }
            plan.commitment = map["commitment"].flatMap { commitment($0) }
            plan.trial = map["trial"].flatMap { reader.span($0, "trial") }
            plan.trialUsage = map["trial_usage"].flatMap { reader.choice($0, "trial_usage", TrialUsage.self) }
            return (plan, chargeOrigins)
        }
        sectionItems["plans"] = ItemOrigins(origins)
        chargeItems = plans.map(\.chargeItems)
        return plans.map(\.plan)
    }

    package static let chargeKeys =
        [
            "name", "metric", "model", "amount", "unit_price", "tiers", "package_size", "package_price", "free_units",
            "round", "rate", "fixed_fee", "free_events", "free_amount", "per_event_min", "per_event_max",
            "free_allowance", "dimensions", "prices", "default_price", "mode", "prorated", "billed",
        ] + commonChargeKeys

    /// Keys every charge may carry, whatever its model, besides name, metric and model.
    package static let commonChargeKeys = ["min_amount", "tax_code"]

    package enum ModelName: String, CaseIterable {
        case flat
        case perUnit = "per_unit"
        case graduated, volume, package, percentage
        case graduatedPercentage = "graduated_percentage"
        case stairstep, matrix
        case tieredBlocks = "tiered_blocks"

        /// The keys this model reads, besides name, metric and model.
        var keys: [String] {
            switch self {
            case .flat: ["amount", "billed"]
            case .perUnit: ["unit_price", "prorated"]
            case .graduated, .volume: ["tiers", "prorated"]
            case .stairstep, .graduatedPercentage: ["tiers"]
            case .package: ["package_size", "package_price", "free_units", "round"]
            case .percentage:
                ["rate", "fixed_fee", "free_events", "free_amount", "per_event_min", "per_event_max", "free_allowance"]
            case .matrix: ["dimensions", "prices", "default_price"]
            case .tieredBlocks: ["tiers", "mode"]
            }
        }
    }

    package func chargeList(_ node: Node) -> (values: [Charge], origins: [Int]) {
        guard let items = reader.sequence(node, "charges") else { return ([], []) }
        return CatalogSection.kept(items, charge)
    }

    package func charge(_ node: Node) -> Charge? {
        guard let map = reader.mapping(node, "a charge", allowed: CatalogSection.chargeKeys) else { return nil }
        guard
            let modelNode = map.required(
                "model", "the pricing model: \(ModelName.allCases.map(\.rawValue).joined(separator: ", "))"),
            let model = reader.choice(modelNode, "model", ModelName.self)
        else { return nil }
        // A key another model uses would be silently ignored here; a typo'd price must not pass CI.
        let anyModelKeys = ["name", "metric", "model"] + CatalogSection.commonChargeKeys
        for pair in map.pairs where !anyModelKeys.contains(pair.key) && !model.keys.contains(pair.key) {
            reader.fail(
                pair.keyNode,
                "'\(Escaped(pair.key))' does not apply to a \(model.rawValue) charge, expected one of: \((["name", "metric", "model"] + model.keys + CatalogSection.commonChargeKeys).joined(separator: ", "))"
            )
        }
        let metric = map["metric"].flatMap { reader.string($0, "metric") }
        let name = map["name"].flatMap { reader.string($0, "name") } ?? metric ?? model.rawValue
        func decimal(_ key: String, _ expected: String) -> ExactDecimal? {
            map.required(key, expected).flatMap { reader.decimal($0, key) }
        }
        func optionalDecimal(_ key: String) -> ExactDecimal? { map[key].flatMap { reader.decimal($0, key) } }
        let pricing: PricingModel?
        switch model {
        case .flat: pricing = decimal("amount", "the fee per period").map { .flat(amount: $0) }
        case .perUnit: pricing = decimal("unit_price", "the price per unit").map { .perUnit(unitPrice: $0) }
        case .graduated: pricing = map.required("tiers", "a list of tiers").flatMap { tiers($0) }.map { .graduated($0) }
        case .volume: pricing = map.required("tiers", "a list of tiers").flatMap { tiers($0) }.map { .volume($0) }
        case .stairstep:
            pricing = map.required("tiers", "a list of tiers with up_to and price").flatMap {
                tiers($0, stairstep: true)
            }.map { .stairstep($0) }
        case .package:
            let round =
                map["round"].flatMap { node -> Bool? in
                    switch reader.scalarText(node, "round", expected: "up or down") {
                    case "up": return true
                    case "down": return false
                    default:
                        reader.fail(node, "round must be up or down")
                        return nil
                    }
                } ?? true
            guard let size = decimal("package_size", "units per package"),
                let price = decimal("package_price", "the price of one package")
            else { return nil }
            pricing = .package(
                size: size, price: price, freeUnits: optionalDecimal("free_units") ?? .zero, roundUp: round)
        case .percentage:
            guard let rate = decimal("rate", "the percentage of each event's value, like 2.9") else { return nil }
            var terms = PercentageTerms(
                rate: rate, fixedFee: optionalDecimal("fixed_fee") ?? .zero,
                freeEvents: map["free_events"].flatMap { reader.integer($0, "free_events") } ?? 0,
                freeAmount: optionalDecimal("free_amount") ?? .zero,
                perEventMin: optionalDecimal("per_event_min"), perEventMax: optionalDecimal("per_event_max"))
            if let node = map["free_allowance"] {
                terms.freeAllowance =
                    reader.choice(node, "free_allowance", PercentageTerms.FreeAllowance.self) ?? .eventsThenAmount
            }
            pricing = .percentage(terms)
        case .graduatedPercentage:
            pricing = map.required("tiers", "a list of tiers with up_to and rate").flatMap { percentageTiers($0) }.map {
                .graduatedPercentage($0)
            }
        case .tieredBlocks:
            let mode = map["mode"].flatMap { reader.choice($0, "mode", TieredBlocks.Mode.self) } ?? .allTiers
            pricing = map.required("tiers", "a list of tiers with up_to, block_size and block_price").flatMap {
                blockTiers($0)
            }
            .map { .tieredBlocks(TieredBlocks(tiers: $0, mode: mode)) }
        case .matrix:
            let dimensions = map.required("dimensions", "the property names priced, like [endpoint, region]").flatMap {
                reader.strings($0, "dimensions")
            }
            let prices = map.required("prices", "a list of { values: [...], unit_price: ... }").flatMap {
                matrixPrices($0)
            }
            let defaultPrice = decimal("default_price", "the unit price of combinations not listed")
            guard let dimensions, let prices, let defaultPrice else { return nil }
            pricing = .matrix(MatrixPrices(dimensions: dimensions, prices: prices, defaultPrice: defaultPrice))
        }
        guard let pricing else { return nil }
        var charge = Charge(name: name, metric: metric, model: pricing)
        charge.minAmount = optionalDecimal("min_amount")
        charge.taxCode = map["tax_code"].flatMap { reader.string($0, "tax_code") }
        if model.keys.contains("prorated") {
            charge.prorated = map["prorated"].flatMap { reader.bool($0, "prorated") } ?? false
        }
        charge.billing = map["billed"].flatMap { reader.choice($0, "billed", FeeBilling.self) } ?? .inArrears
        return charge
    }

    package func tiers(_ node: Node, stairstep: Bool = false) -> [Tier]? {
        guard let items = reader.sequence(node, "tiers") else { return nil }
        let tiers = items.compactMap { item -> Tier? in
            let keys = stairstep ? ["up_to", "price"] : ["up_to", "unit_price", "flat_fee"]
            guard let map = reader.mapping(item, "a tier", allowed: keys) else { return nil }
            let upTo = map["up_to"].flatMap { reader.decimal($0, "up_to") }
            if stairstep {
                guard
                    let price = map.required("price", "the tier's fixed price").flatMap({ reader.decimal($0, "price") })
                else { return nil }
                return Tier(upTo: upTo, unitPrice: .zero, flatFee: price)
            }
            guard
                let price = map.required("unit_price", "the price per unit in the tier").flatMap({
                    reader.decimal($0, "unit_price")
                })
            else { return nil }
            return Tier(
                upTo: upTo, unitPrice: price,
                flatFee: map["flat_fee"].flatMap { reader.decimal($0, "flat_fee") } ?? .zero)
        }
        return tiers.count == items.count ? tiers : nil
    }

    package func blockTiers(_ node: Node) -> [BlockTier]? {
        guard let items = reader.sequence(node, "tiers") else { return nil }
        let tiers = items.compactMap { item -> BlockTier? in
            guard let map = reader.mapping(item, "a tier", allowed: ["up_to", "block_size", "block_price"]),
                let size = map.required("block_size", "the units in one block").flatMap({
                    reader.decimal($0, "block_size")
                }),
                let price = map.required("block_price", "the price of one block").flatMap({
                    reader.decimal($0, "block_price")
                })
            else { return nil }
            return BlockTier(
                upTo: map["up_to"].flatMap { reader.decimal($0, "up_to") }, blockSize: size, blockPrice: price)
        }
        return tiers.count == items.count ? tiers : nil
    }

    package func percentageTiers(_ node: Node) -> [PercentageTier]? {
        guard let items = reader.sequence(node, "tiers") else { return nil }
        let tiers = items.compactMap { item -> PercentageTier? in
            guard let map = reader.mapping(item, "a tier", allowed: ["up_to", "rate", "flat_fee"]) else { return nil }
            guard
                let rate = map.required("rate", "the percentage charged inside the tier").flatMap({
                    reader.decimal($0, "rate")
                })
            else { return nil }
            return PercentageTier(
                upTo: map["up_to"].flatMap { reader.decimal($0, "up_to") }, rate: rate,
                flatFee: map["flat_fee"].flatMap { reader.decimal($0, "flat_fee") } ?? .zero)
        }
        return tiers.count == items.count ? tiers : nil
    }

    package func matrixPrices(_ node: Node) -> [MatrixPrice]? {
        guard let items = reader.sequence(node, "prices") else { return nil }
        let prices = items.compactMap { item -> MatrixPrice? in
            guard let map = reader.mapping(item, "a matrix price", allowed: ["values", "unit_price"]) else {
                return nil
            }
            guard
                let values = map.required("values", "one value per dimension").flatMap({ reader.strings($0, "values") }
                ),
                let price = map.required("unit_price", "the unit price of this combination").flatMap({
                    reader.decimal($0, "unit_price")
                })
            else { return nil }
            return MatrixPrice(values: values, unitPrice: price)
        }
        return prices.count == items.count ? prices : nil
    }

    package func quotaList(_ node: Node) -> [Quota] {
        guard case .mapping(let mapping) = node else {
            reader.fail(node, "quota must be a mapping of metric to { limit, hard }")
            return []
        }
        return mapping.compactMap { key, value in
            guard let metric = reader.string(key, "a quota's metric"),
                let map = reader.mapping(value, "the quota of \(metric)", allowed: ["limit", "hard"]),
                let limit = map.required("limit", "the most usage per period").flatMap({ reader.decimal($0, "limit") })
            else { return nil }
            return Quota(metric: metric, limit: limit, hard: map["hard"].flatMap { reader.bool($0, "hard") } ?? true)
        }
    }

    package func pricingUnit(_ node: Node) -> PricingUnit? {
        guard let map = reader.mapping(node, "pricing_unit", allowed: ["name", "conversion_rate"]),
            let name = map.required("name", "the unit's name, like credits").flatMap({ reader.string($0, "name") }),
            let rate = map.required("conversion_rate", "the currency amount of one unit, like 0.01")
                .flatMap({ reader.decimal($0, "conversion_rate") })
        else { return nil }
        return PricingUnit(name: name, conversionRate: rate)
    }

    package func commitment(_ node: Node) -> Commitment? {
        guard let map = reader.mapping(node, "commitment", allowed: ["amount", "periods", "billing"]),
            let amount = map.required("amount", "the amount committed for the whole term").flatMap({
                reader.decimal($0, "amount")
            }),
            let periods = map.required("periods", "the term's length in periods").flatMap({
                reader.integer($0, "periods", in: 1...120)
            })
        else { return nil }
        let billing = map["billing"].flatMap { reader.choice($0, "billing", Commitment.Billing.self) } ?? .prepaid
        return Commitment(amount: amount, periods: periods, billing: billing)
    }

    package func rolloverTerms(_ node: Node) -> Rollover? {
        guard let map = reader.mapping(node, "rollover", allowed: ["metric", "max_periods", "cap"]),
            let metric = map.required("metric", "the metric whose included units roll over").flatMap({
                reader.string($0, "metric")
            }),
            let periods = map.required("max_periods", "how many periods rolled-over units last").flatMap({
                reader.integer($0, "max_periods", in: 1...120)
            })
        else { return nil }
        return Rollover(metric: metric, maxPeriods: periods, cap: map["cap"].flatMap { reader.decimal($0, "cap") })
    }

    /// The most customers one scenario may have, from one `count:` item or all of them together.
    static let maximumCustomers = 10_000_000

    /// Reads the customers; `defaultAnchor` is the scenario's `anchor`, for customers without their own.
    package mutating func customers(_ node: Node, defaultAnchor: BillingAnchor = .calendar) -> CustomerList {
        guard let items = reader.sequence(node, "customers") else { return CustomerList() }
        var customers = CustomerList()
        var customerOrigins = ItemOrigins()
        defer { sectionItems["customers"] = customerOrigins }
        for (index, item) in items.enumerated() {
            let keys = [
                "id", "count", "id_prefix", "plan", "tax", "tax_exempt", "billing", "start", "end", "balance", "trial",
                "changes", "anchor", "trial_usage", "subscriptions",
            ]
            guard let map = reader.mapping(item, "a customer", allowed: keys) else { continue }
            // A customer holds one plan, or several subscriptions each with its own plan.
            let subscriptions = map["subscriptions"].map { subscriptionList($0, customer: map) }
            let plan =
                subscriptions != nil
                ? subscriptions?.first?.plan
                : map.required("plan", "the id of the customer's plan").flatMap { reader.string($0, "plan") }
            let tax = map["tax"].flatMap { reader.string($0, "tax") }
            let exempt = map["tax_exempt"].flatMap { reader.bool($0, "tax_exempt") } ?? false
            let billing = map["billing"].flatMap { reader.choice($0, "billing", BillingType.self) } ?? .card
            let start = map["start"].flatMap { reader.instant($0, "start") }
            let end = map["end"].flatMap { reader.instant($0, "end") }
            let balance = map["balance"].flatMap { reader.decimal($0, "balance") } ?? .zero
            let trial = map["trial"].flatMap { reader.span($0, "trial") }
            let trialUsage = map["trial_usage"].flatMap { reader.choice($0, "trial_usage", TrialUsage.self) }
            let changes = map["changes"].map { planChanges($0) } ?? []
            let anchor = map["anchor"].flatMap { reader.choice($0, "anchor", BillingAnchor.self) } ?? defaultAnchor
            if anchor == .anniversary, subscriptions == nil {
                anniversaryItems.append((map["start"] ?? item, start))
            }
            // count: 100, id_prefix: cust- makes cust-001 ... cust-100; one customer otherwise.
            let numbered: (prefix: String, count: Int)?
            let id: String
            if let countNode = map["count"] {
                if let id = map["id"] { reader.fail(id, "a customer has either id or count, not both") }
                guard let count = reader.integer(countNode, "count", in: 1...Self.maximumCustomers) else { continue }
                numbered = (map["id_prefix"].flatMap { reader.string($0, "id_prefix") } ?? "customer-", count)
                id = ""
            } else {
                guard
                    let listedID = map.required("id", "the customer's id (or count and id_prefix for many)").flatMap({
                        reader.string($0, "id")
                    })
                else { continue }
                if let prefix = map["id_prefix"] { reader.fail(prefix, "id_prefix goes with count") }
                (numbered, id) = (nil, listedID)
            }
            guard let plan else { continue }
            let made = numbered?.count ?? 1
            // The most one item may make is also the most a file may: two items of ten million would
            // otherwise take twice what the format promises to hold.
            guard customers.count + made <= Self.maximumCustomers else {
                reader.fail(
                    map["count"] ?? item,
                    "the customers add up to \(customers.count + made), "
                        + "expected at most \(Self.maximumCustomers) in one scenario")
                continue
            }
            var customer = Customer(
                id: id, plan: plan, taxJurisdiction: tax, taxExempt: exempt, billing: billing,
                start: start, end: end, creditBalance: balance)
            if let subscriptions {
                customer = Customer(
                    id: id, subscriptions: subscriptions, taxJurisdiction: tax, taxExempt: exempt, billing: billing,
                    creditBalance: balance)
                // Its periods start at its earliest subscription's start (none: with the run's).
                if anchor == .anniversary {
                    let earliest = subscriptions.firstIndex { $0.start != nil && $0.start == customer.start }
                    let items = map["subscriptions"]?.sequence.map(Array.init) ?? []
                    let node = earliest.flatMap { items.count == subscriptions.count ? items[$0]["start"] : nil }
                    anniversaryItems.append((node ?? item, customer.start))
                }
            }
            customer.trial = trial
            customer.trialUsage = trialUsage
            customer.changes = changes
            customer.anchor = anchor
            if let numbered {
                customers.appendNumbered(customer, prefix: numbered.prefix, count: numbered.count)
            } else {
                customers.append(customer)
            }
            customerOrigins.append(index, count: made)
        }
        return customers
    }

    /// A customer's `subscriptions:`, each an `id` (its plan's by default) on a `plan`, with its own `start`, `end`,
    /// `trial`, `trial_usage` and `changes`, which the customer (`customer`) then may not have.
    package func subscriptionList(_ node: Node, customer: YAMLMapping) -> [Subscription] {
        for key in ["plan", "start", "end", "trial", "trial_usage", "changes"] {
            guard let value = customer[key] else { continue }
            reader.fail(
                value,
                "a customer with subscriptions has '\(key)' on each subscription, expected it inside subscriptions")
        }
        guard let items = reader.sequence(node, "subscriptions") else { return [] }
        if items.isEmpty { reader.fail(node, "subscriptions is empty, expected at least one subscription") }
        let keys = ["id", "plan", "start", "end", "trial", "trial_usage", "changes"]
        return items.compactMap { item -> Subscription? in
            guard let map = reader.mapping(item, "a subscription", allowed: keys),
                let plan = map.required("plan", "the id of the subscription's plan").flatMap({
                    reader.string($0, "plan")
                })
            else { return nil }
            var subscription = Subscription(
                id: map["id"].flatMap { reader.string($0, "id") } ?? plan, plan: plan,
                start: map["start"].flatMap { reader.instant($0, "start") },
                end: map["end"].flatMap { reader.instant($0, "end") })
            subscription.trial = map["trial"].flatMap { reader.span($0, "trial") }
            subscription.trialUsage = map["trial_usage"].flatMap { reader.choice($0, "trial_usage", TrialUsage.self) }
            subscription.changes = map["changes"].map { planChanges($0) } ?? []
            return subscription
        }
    }

    /// A customer's `changes:`, each `at` a time, to a `plan` or `cancel: true`, with an optional `effective`.
    package func planChanges(_ node: Node) -> [PlanChange] {
        guard let items = reader.sequence(node, "changes") else { return [] }
        return items.compactMap { item -> PlanChange? in
            guard let map = reader.mapping(item, "a plan change", allowed: ["at", "plan", "cancel", "effective"]),
                let at = map.required("at", "when the change is asked for").flatMap({ reader.instant($0, "at") })
            else { return nil }
            let timing = map["effective"].flatMap { reader.choice($0, "effective", PlanChange.Timing.self) }
            let plan = map["plan"].flatMap { reader.string($0, "plan") }
            let cancel = map["cancel"].flatMap { reader.bool($0, "cancel") } ?? false
            if cancel == (plan != nil) {
                reader.fail(item, "a plan change names either a new plan or cancel: true")
                return nil
            }
            return PlanChange(at: at, plan: plan, timing: timing)
        }
    }

    package mutating func discounts(_ node: Node) -> [Discount] {
        guard let items = reader.sequence(node, "discounts") else { return [] }
        let (discounts, origins) = CatalogSection.kept(Array(items.enumerated())) { entry -> Discount? in
            let (index, item) = entry
            let keys = [
                "name", "customer", "plan", "percent", "amount", "duration", "charges", "metrics", "start", "expires",
            ]
            guard let map = reader.mapping(item, "a discount", allowed: keys) else { return nil }
            let customer = map["customer"].flatMap { reader.string($0, "customer") }
            let plan = map["plan"].flatMap { reader.string($0, "plan") }
            if !map.has("customer") && !map.has("plan") {
                reader.fail(item, "a discount needs a customer, a plan or both")
            }
            var kind: Discount.Kind?
            switch (map["percent"], map["amount"]) {
            case (let percent?, nil): kind = reader.decimal(percent, "percent").map { .percent($0) }
            case (nil, let amount?): kind = reader.decimal(amount, "amount").map { .fixed($0) }
            case (_?, let amount?): reader.fail(amount, "a discount has either percent or amount, not both")
            case (nil, nil): reader.fail(item, "a discount needs percent (like 10) or amount (like 50)")
            }
            let duration = map["duration"].flatMap(duration) ?? .once
            guard customer != nil || plan != nil, let kind else { return nil }
            let name = map["name"].flatMap { reader.string($0, "name") } ?? "Discount \(index + 1)"
            var discount = Discount(name: name, customer: customer, kind: kind, duration: duration)
            discount.plan = plan
            discount.charges = map["charges"].flatMap { reader.strings($0, "charges") } ?? []
            discount.metrics = map["metrics"].flatMap { reader.strings($0, "metrics") } ?? []
            discount.start = map["start"].flatMap { reader.instant($0, "start") }
            discount.expires = map["expires"].flatMap { reader.instant($0, "expires") }
            return discount
        }
        sectionItems["discounts"] = ItemOrigins(origins)
        return discounts
    }

    package func duration(_ node: Node) -> Discount.Duration? {
        if case .scalar = node {
            switch reader.scalarText(node, "duration", expected: "once, forever or { periods: N }") {
            case "once": return .once
            case "forever": return .forever
            case let text?:
                reader.fail(node, "duration '\(Escaped(text))' is not known, expected once, forever or { periods: N }")
                return nil
            case nil: return nil
            }
        }
        guard let map = reader.mapping(node, "duration", allowed: ["periods"]),
            let periods = map.required("periods", "how many periods").flatMap({
                reader.integer($0, "periods", in: 1...1200)
            })
        else { return nil }
        return .periods(periods)
    }

    package mutating func taxes(_ node: Node) -> [TaxRate] {
        guard let items = reader.sequence(node, "taxes") else { return [] }
        let (taxes, origins) = CatalogSection.kept(items) { item -> TaxRate? in
            guard let map = reader.mapping(item, "a tax rate", allowed: ["name", "jurisdiction", "rate", "code"]),
                let jurisdiction = map.required("jurisdiction", "like US-CA").flatMap({
                    reader.string($0, "jurisdiction")
                }),
                let rate = map.required("rate", "a percentage like 7.25").flatMap({ reader.decimal($0, "rate") })
            else { return nil }
            let name = map["name"].flatMap { reader.string($0, "name") } ?? "Tax \(jurisdiction) \(rate)%"
            var taxRate = TaxRate(name: name, jurisdiction: jurisdiction, rate: rate)
            taxRate.code = map["code"].flatMap { reader.string($0, "code") }
            return taxRate
        }
        sectionItems["taxes"] = ItemOrigins(origins)
        return taxes
    }

    package mutating func credits(_ node: Node) -> [PrepaidCredit] {
        guard let items = reader.sequence(node, "credits") else { return [] }
        let (credits, origins) = CatalogSection.kept(items) { item -> PrepaidCredit? in
            guard
                let map = reader.mapping(item, "a credit", allowed: ["customer", "amount", "expires_after", "period"]),
                let customer = map.required("customer", "the customer's id").flatMap({ reader.string($0, "customer") }),
                let amount = map.required("amount", "the prepaid amount").flatMap({ reader.decimal($0, "amount") })
            else { return nil }
            let expires = map["expires_after"].flatMap { reader.integer($0, "expires_after", in: 1...1200) }
            let period = map["period"].flatMap { reader.integer($0, "period", in: 1...1200) }.map { $0 - 1 } ?? 0
            return PrepaidCredit(
                customer: customer, amount: amount, grantedInPeriod: period, expiresAfterPeriods: expires)
        }
        sectionItems["credits"] = ItemOrigins(origins)
        return credits
    }

    /// The YAML node a catalog error's path points at: as deep as the path can be followed.
    ///
    /// Catalog indices are mapped back to YAML list items (see ``sectionItems`` and ``chargeItems``);
    /// a charge made from a plan's shorthand keys points at the shorthand key it came from.
    package func node(at path: [CatalogPathComponent], in root: Node) -> Node {
        var node = root
        var parentKey: String?
        var plan: (catalog: Int, node: Node)?
        for (position, component) in path.enumerated() {
            switch (component, node) {
            case (.key(let key), .mapping(let mapping)):
                guard let next = mapping.first(where: { $0.key.string == key })?.value else {
                    // A plan whose charges all come from its shorthand keys has no `charges:` list.
                    if key == "charges", let plan { return shorthandNode(plan, rest: path.dropFirst(position + 1)) }
                    return node
                }
                parentKey = position == 0 ? "/" + key : key
                node = next
            case (.index(let index), .sequence(let sequence)):
                var item = index
                if let key = parentKey, key.hasPrefix("/"), let origins = sectionItems[String(key.dropFirst())] {
                    guard let origin = origins.item(of: index) else { return node }
                    item = origin
                } else if parentKey == "charges", let current = plan, current.catalog < chargeItems.count {
                    guard index < chargeItems[current.catalog].count else { return node }
                    item = chargeItems[current.catalog][index]
                    if item < 0 { return shorthandNode(current, rest: path.dropFirst(position + 1)) }
                }
                guard item < sequence.count else { return node }
                node = sequence[sequence.startIndex + item]
                if parentKey == "/plans" { plan = (index, node) }
                parentKey = nil
            default:
                return node
            }
        }
        return node
    }

    /// For a charge made from a plan's shorthand: the shorthand key behind the faulty value.
    private func shorthandNode(_ plan: (catalog: Int, node: Node), rest: ArraySlice<CatalogPathComponent>) -> Node {
        guard case .mapping(let mapping) = plan.node else { return plan.node }
        let keys: [String: String] = [
            "metric": "metric", "amount": "base_fee", "up_to": "included_units", "unit_price": "overage_price",
        ]
        for case .key(let key) in rest.reversed() {
            if let shorthand = keys[key], let value = mapping.first(where: { $0.key.string == shorthand })?.value {
                return value
            }
        }
        return plan.node
    }
}

/// Which YAML list item each value of a catalog section came from, kept as runs of values from one item.
///
/// Items with errors are left out of the catalog, and one `count:` item makes millions of customers:
/// a run per item keeps the map as small as the file.
package struct ItemOrigins {
    /// The position of each run's first value, ascending.
    private var starts: [Int] = []
    /// The item each run came from.
    private var items: [Int] = []
    /// How many values there are.
    private var count = 0

    /// An empty map.
    init() {}

    /// The map of values that came from these items, one each, in order.
    init(_ items: [Int]) {
        for item in items { append(item, count: 1) }
    }

    /// Records that the next `count` values came from list item `item`.
    mutating func append(_ item: Int, count: Int) {
        if items.last != item {
            starts.append(self.count)
            items.append(item)
        }
        self.count += count
    }

    /// The list item the value at `index` came from, or nil past the last value.
    func item(of index: Int) -> Int? {
        guard index >= 0 && index < count else { return nil }
        guard let run = starts.lastIndex(inPrefixWhere: { $0 <= index }) else { return nil }
        return items[run]
    }
}
