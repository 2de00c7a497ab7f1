import Foundation
import MLWire

/// A swap or rollback the node acknowledged, with both clocks: the node's own swap time (the
/// pointer flip under its control lock) and the round trip seen by mlctl.
public struct SwapResult: Equatable, Sendable {
    public var node: String
    public var outcome: SwapOutcome
    public var roundTripMicros: Double
    public var at: Date

    public init(node: String, outcome: SwapOutcome, roundTripMicros: Double, at: Date) {
        self.node = node
        self.outcome = outcome
        self.roundTripMicros = roundTripMicros
        self.at = at
    }

    public var swapMicros: Double { Double(outcome.swapNanos) / 1_000 }

    /// The runbook's step 2 response for this change.
    public var rollbackResponse: RollbackResponse {
        RollbackResponse(status: "success", previousVersion: outcome.previousVersion, rolledBackTo: outcome.activeVersion,
                         timestamp: SQLTime.iso8601(Date(timeIntervalSince1970: Double(outcome.timestampMicros) / 1e6)),
                         node: node, generation: outcome.generation, swapMicros: swapMicros, roundTripMicros: roundTripMicros)
    }
}

/// The runbook's "Expected response" to POST /model/rollback, plus where and how fast. The
/// first four keys are the runbook's, so a script written against it keeps working.
public struct RollbackResponse: Codable, Equatable, Sendable {
    public var status: String
    public var previousVersion: String
    public var rolledBackTo: String
    public var timestamp: String
    public var node: String
    public var generation: UInt64
    public var swapMicros: Double
    public var roundTripMicros: Double

    enum CodingKeys: String, CodingKey {
        case status, previousVersion = "previous_version", rolledBackTo = "rolled_back_to", timestamp, node, generation
        case swapMicros = "swap_micros", roundTripMicros = "round_trip_micros"
    }
}
