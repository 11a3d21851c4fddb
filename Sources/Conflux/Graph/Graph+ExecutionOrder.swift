extension Graph {
    /// The ids of the nodes `roots` depend on, not looking past `fed` nodes, in id order with stateful ops last:
    /// an update then runs after every op that reads the variable it writes.
    public func executionOrder(roots: [Int], fed: Set<Int> = []) -> [Int] {
        var needed = Set<Int>()
        var stack = roots
        while let id = stack.popLast() {
            guard needed.insert(id).inserted, !fed.contains(id) else { continue }
            stack += nodes[id].inputs
        }
        let sorted = needed.sorted()
        let isUpdate = { (id: Int) in self.nodes[id].role == .update }
        return sorted.filter { !isUpdate($0) } + sorted.filter(isUpdate)
    }
}
