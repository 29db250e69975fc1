import Foundation
import Testing
import TipiTestSupport

@testable import Tipi

/// `start(config:)` and `log` take the values a program has: variables of the usual types, config structs,
/// and the numeric types of a training loop, without casts.
@Suite("The API takes what users have")
struct APIInputTests {
    struct Optimizer: Codable {
        var name = "adam"
        var lr = 0.001
        var betas = [0.9, 0.999]
    }

    struct TrainingConfig: Codable {
        var epochs = 10
        var seed: Int32 = 7
        var augment = false
        var optimizer = Optimizer()
    }

    func rows(_ run: Run) throws -> [[String: Double]] {
        try TipiTests.rows(run).map(\.1)
    }

    @Test("config: variables of the usual types, without .double(…)")
    func configVariables() throws {
        let logger = ExperimentLogger()
        let lr = 0.01
        let epochs = 10
        let optimizer = "adam"
        let warmup = true
        let dropout: Float = 0.1
        let layers = [64, 32]
        let schedule = ["start": 0.5, "end": 0.1]
        let run = try logger.start(
            project: "api", config: [
                "lr": lr, "epochs": epochs, "optimizer": optimizer, "warmup": warmup, "dropout": dropout,
                "layers": layers, "schedule": schedule,
            ], store: temporaryStore())
        logger.finish()
        let expected: [String: ConfigValue] = [
            "lr": .double(0.01), "epochs": .int(10), "optimizer": .string("adam"), "warmup": .bool(true),
            "dropout": .double(0.1), "layers": .array([.int(64), .int(32)]),
            "schedule": .table(["start": .double(0.5), "end": .double(0.1)]),
        ]
        #expect(run.metadata.config == expected)
        #expect(try RunStore(root: run.folder.deletingLastPathComponent().deletingLastPathComponent())
            .run(matching: run.id).metadata.config == expected)
    }

    @Test("config: literals keep working, mixed lists and tables too")
    func configLiterals() throws {
        let logger = ExperimentLogger()
        let run = try logger.start(
            project: "api", config: ["lr": 0.01, "epochs": 10, "opt": "adam", "mixed": [1, "x", true], "adam": ["b1": 0.9, "name": "a"]],
            store: temporaryStore())
        logger.finish()
        #expect(run.metadata.config["lr"] == .double(0.01))
        #expect(run.metadata.config["epochs"] == .int(10))
        #expect(run.metadata.config["mixed"] == .array([.int(1), .string("x"), .bool(true)]))
        #expect(run.metadata.config["adam"] == .table(["b1": .double(0.9), "name": .string("a")]))
    }

    @Test("config: an Encodable struct, nested fields as dotted keys")
    func configStruct() throws {
        let logger = ExperimentLogger()
        let run = try logger.start(project: "api", config: TrainingConfig(), store: temporaryStore())
        logger.finish()
        #expect(
            run.metadata.config == [
                "epochs": .int(10), "seed": .int(7), "augment": .bool(false), "optimizer.name": .string("adam"),
                "optimizer.lr": .double(0.001), "optimizer.betas": .array([.double(0.9), .double(0.999)]),
            ])
    }

    struct Special: Codable {
        var scale = Double.nan
        var limit = Double.infinity
        var note: String? = nil
        var ratio: Float = 0.5
    }

    @Test("config: a struct's NaN and infinity are kept as text, nil fields left out")
    func configSpecialValues() throws {
        let logger = ExperimentLogger()
        let run = try logger.start(project: "api", config: Special(), store: temporaryStore())
        logger.finish()
        #expect(run.metadata.config == ["scale": .string("nan"), "limit": .string("inf"), "ratio": .double(0.5)])
    }

    @Test("config: a value that is not a set of named fields is a clear error, and no run is made")
    func configNotFields() throws {
        let logger = ExperimentLogger()
        let store = temporaryStore()
        let list = [1, 2, 3]
        let number = 3.5
        #expect(throws: TrackingError.self) {
            try logger.start(project: "api", config: list, store: store)
        }
        do {
            try logger.start(project: "api", config: number, store: store)
            Issue.record("a plain number was accepted as a config")
        } catch let error as TrackingError {
            guard case .configNotEncodable(let type, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(type == "Double")
            #expect("\(error)".contains("pass a struct"))
        }
        #expect(!FileManager.default.fileExists(atPath: store.root.path))
        #expect(logger.run == nil)
    }

    @Test("log: Int, Float, Float16, Bool and other integers, mixed in one dictionary, logged as their values")
    func logMixedTypes() throws {
        let logger = ExperimentLogger()
        let run = try logger.start(project: "api", store: temporaryStore())
        let loss: Float = 0.25
        let correct = 87
        let half: Float16 = 1.5
        let batches: UInt8 = 200
        let big: Int64 = 1 << 40
        logger.log(["loss": loss, "correct": correct, "improved": true, "half": half, "batches": batches, "big": big])
        let floats: [String: Float] = ["a": 0.1, "b": -2]
        logger.log(floats)
        let counts: [String: Int] = ["seen": 3]
        run.log(counts)
        logger.log(["loss": 0.3, "n": 1])
        logger.log(["plain": 0.5])
        logger.finish()
        let rows = try rows(run)
        #expect(rows.count == 5)
        #expect(rows[0] == ["loss": 0.25, "correct": 87, "improved": 1, "half": 1.5, "batches": 200, "big": 1_099_511_627_776])
        #expect(rows[1] == ["a": Double(Float(0.1)), "b": -2])
        #expect(rows[2] == ["seen": 3])
        #expect(rows[3] == ["loss": 0.3, "n": 1])
        #expect(rows[4] == ["plain": 0.5])
    }
}
