/// Stage 6: where the invoice goes, from the customer's billing type.
enum RoutingStage {
    /// Card customers are charged automatically; invoice customers go to accounts receivable.
    static func destination(for customer: Customer) -> BillingType {
        customer.billing
    }
}
