import ArgumentParser
import Conflux
import ConfluxMPI
import ConfluxNN

/// What `conflux train` adds under mpirun: the check that every rank starts alike, and each rank's timing for
/// rank 0's report.
extension ModelSession {
    /// Throws unless every rank starts from the same weights: the same model, seed and checkpoint on each.
    func checkIdenticalWeights(across world: MPIWorld) throws {
        let all = world.gather([try weightsChecksum()]).map { $0[0] }
        if let differing = all.firstIndex(where: { $0 != all[0] }) {
            throw ValidationError(
                "rank \(differing) starts from other weights than rank 0 (checksums \(all[differing]) and \(all[0])); "
                    + "every rank must build the same model from the same --seed and checkpoint")
        }
    }

    /// A weighted sum of the model's weights and state (batch norm's running statistics): equal on two ranks only
    /// if theirs are (up to a collision no mistake makes).
    func weightsChecksum() throws -> Double {
        var checksum = 0.0
        for (index, value) in try session.run(classifier.parameters + classifier.state).enumerated() {
            for (position, x) in value.floats.enumerated() { checksum += Double(x) * Double(index + position % 7 + 1) }
        }
        return checksum
    }
}

/// One rank's training time under mpirun.
struct RankTiming: Encodable {
    let rank: Int
    let steps: Int
    /// Seconds of training, all epochs.
    let seconds: Double
    /// Seconds in collectives (the gradients' sums, the reported losses'), waiting for the other ranks included.
    let communication: Double
    /// Seconds the computation waited for collectives: the communication not hidden behind the backward pass.
    let waiting: Double
    /// A checksum of the weights the rank ends with: the same on every rank that computes alike.
    let weightsChecksum: Double

    private enum CodingKeys: String, CodingKey {
        case rank, seconds, communication, waiting, compute, hidden, communicationPerStep, weightsChecksum
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rank, forKey: .rank)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(communication, forKey: .communication)
        try container.encode(waiting, forKey: .waiting)
        // The rest of the time: computing.
        try container.encode(seconds - waiting, forKey: .compute)
        // The fraction of the communication the computation did not wait for.
        try container.encode(communication > 0 ? max(0, 1 - waiting / communication) : 0, forKey: .hidden)
        try container.encode(communication / Double(max(steps, 1)), forKey: .communicationPerStep)
        try container.encode(weightsChecksum, forKey: .weightsChecksum)
    }
}

extension RankTiming {
    /// Every rank's timing and final weights' checksum, gathered from all ranks (each must call it).
    static func gathered(
        by world: MPIWorld, _ results: [EpochResult], _ communication: CommunicationTime, _ run: ModelSession
    ) throws -> [RankTiming] {
        let steps = results.map { $0.stepLosses.count }.reduce(0, +)
        let mine = [
            results.map(\.seconds).reduce(0, +), communication.communication, communication.blocked,
            try run.weightsChecksum(),
        ]
        return world.gather(mine).enumerated().map {
            RankTiming(
                rank: $0.offset, steps: steps, seconds: $0.element[0], communication: $0.element[1],
                waiting: $0.element[2], weightsChecksum: $0.element[3])
        }
    }
}
