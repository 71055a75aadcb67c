/// Capacity arithmetic the platforms share.
enum Capacities {
    /// The tighter of two limits where nil means unlimited: nil only when both are.
    static func smallest(_ a: Int?, _ b: Int?) -> Int? {
        switch (a, b) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }
}
