extension Graph {
    /// The ids of the nodes `roots` depend on, not looking past `fed` nodes, in id order with stateful ops last
    /// (an update then runs after every op that reads the variable it writes) and the nodes of ops that run early
    /// (`OpDefinition.runsEarly`) moved up to just after their last input.
    public func executionOrder(roots: [Int], fed: Set<Int> = []) -> [Int] {
        var needed = Set<Int>()
        var stack = roots
        while let id = stack.popLast() {
            guard needed.insert(id).inserted, !fed.contains(id) else { continue }
            stack += nodes[id].inputs
        }
        let sorted = needed.sorted()
        let isUpdate = { (id: Int) in self.nodes[id].role == .update }
        let isEarly = { (id: Int) in OpDefinition.all[self.nodes[id].op]?.runsEarly ?? false }
        var order = sorted.filter { !isUpdate($0) && !isEarly($0) }
        for id in sorted where isEarly(id) && !isUpdate(id) {
            let inputs = Set(nodes[id].inputs)
            order.insert(id, at: (order.lastIndex { inputs.contains($0) } ?? -1) + 1)
        }
        return order + sorted.filter(isUpdate)
    }
}
