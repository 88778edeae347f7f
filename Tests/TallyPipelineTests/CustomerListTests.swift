import Testing

@testable import TallyPipeline

@Suite("Customer lists: numbered runs held as one entry")
struct CustomerListTests {
    static func run(_ prefix: String, _ count: Int) -> NumberedCustomers {
        NumberedCustomers(Customer(id: "", plan: "p"), prefix: prefix, count: count)
    }

    @Test("ten million customers are one run: read, indexed and found back without spelling them out")
    func tenMillion() throws {
        var customers = CustomerList()
        customers.append(Customer(id: "first", plan: "p"))
        customers.appendNumbered(Customer(id: "", plan: "p", taxJurisdiction: "US-CA"), prefix: "c-", count: 10_000_000)
        customers.append(Customer(id: "last", plan: "p"))
        let catalog = try Catalog(
            currency: try currency("USD"), metrics: [], plans: [Plan(id: "p", charges: [])], customers: customers)
        // 1 + 10,000,000 + 1 customers; 10,000,000 has 8 digits, so every number is padded to 8.
        #expect(catalog.customers.count == 10_000_002)
        #expect(catalog.customers[0].id == "first")
        #expect(catalog.customers[1].id == "c-00000001")
        #expect(catalog.customers[1].taxJurisdiction == "US-CA")
        #expect(catalog.customers[10_000_000].id == "c-10000000")
        #expect(catalog.customers[10_000_001].id == "last")
        #expect(catalog.customerIndex("c-00000001") == 1)
        #expect(catalog.customerIndex("c-10000000") == 10_000_000)
        #expect(catalog.customerIndex("last") == 10_000_001)
        // Not made by the run: number 0, past the count, the wrong width, a letter among the digits.
        for id in ["c-00000000", "c-10000001", "c-1", "c-000000001", "c-0000000x", "d-00000001"] {
            #expect(catalog.customerIndex(id) == nil, "\(id)")
        }
    }

    @Test("two runs share one range of ids, found from their prefixes and widths")
    func sharedIDs() {
        // c001 ... c100 and c001 ... c050 (prefix c0, 2 digits): all 50 of the later run.
        #expect(Self.run("c0", 50).offsetsShared(with: Self.run("c", 100)) == 0..<50)
        // c101 ... c120 against c001 ... c100: the later number m is the earlier 100 + m, past 100.
        #expect(Self.run("c1", 20).offsetsShared(with: Self.run("c", 100)).isEmpty)
        // c0001 ... c5000 against c001 ... c100: ids of different lengths.
        #expect(Self.run("c", 5000).offsetsShared(with: Self.run("c", 100)).isEmpty)
        // 0001 ... 1000 against c001 ... c100: the earlier prefix goes on with a letter, not digits.
        #expect(Self.run("", 1000).offsetsShared(with: Self.run("c", 100)).isEmpty)
        // x001 ... x300 against x201 ... x250 (prefix x2): numbers 201 ... 250, offsets 200 ..< 250.
        #expect(Self.run("x", 300).offsetsShared(with: Self.run("x2", 50)) == 200..<250)
        // x001 ... x500 against x001 ... x099 (prefix x0, 2 digits): numbers 1 ... 99.
        #expect(Self.run("x", 500).offsetsShared(with: Self.run("x0", 99)) == 0..<99)
        // The same run twice: every id.
        #expect(Self.run("customer-", 500).offsetsShared(with: Self.run("customer-", 500)) == 0..<500)
    }

    @Test("ids made twice across listed customers and runs are reported at the later one, each once")
    func duplicatesAcrossRunsAndListed() throws {
        var customers = CustomerList()
        customers.appendNumbered(Customer(id: "", plan: "p"), prefix: "c", count: 100)  // positions 0-99: c001 ... c100
        customers.append(Customer(id: "c012", plan: "p"))  // 100: repeats c012 (position 11)
        customers.appendNumbered(Customer(id: "", plan: "p"), prefix: "c00", count: 3)  // 101-103: c001 ... c003
        customers.append(Customer(id: "c002", plan: "p"))  // 104: repeats c002 (position 1, and 102)
        customers.append(Customer(id: "new", plan: "p"))  // 105
        let usd = try currency("USD")
        do {
            _ = try Catalog(currency: usd, metrics: [], plans: [Plan(id: "p", charges: [])], customers: customers)
            Issue.record("expected duplicate customers to be refused")
        } catch {
            // Later copies: 100 (c012), 101, 102, 103 (c001 ... c003) and 104 (c002): five, in position order.
            #expect(
                error.errors.map(\.description) == [
                    "customers[100].id: duplicate customer 'c012', expected each id once",
                    "customers[101].id: duplicate customer 'c001', expected each id once",
                    "customers[102].id: duplicate customer 'c002', expected each id once",
                    "customers[103].id: duplicate customer 'c003', expected each id once",
                    "customers[104].id: duplicate customer 'c002', expected each id once",
                ])
        }
    }
}
