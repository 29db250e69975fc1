import Foundation
import Testing
import TipiTestSupport

/// TensorBoard's HParams tab: the config and status of each run, read back by TensorBoard's own event
/// reader and the hparams plugin's protobuf classes from the test venv.
@Suite("TensorBoard HParams", .enabled(if: Interop.python != nil || Interop.isCI))
struct TensorBoardHParamsTests {
    static let reader = """
        import json, sys
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        from tensorboard.plugins.hparams import plugin_data_pb2
        acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
        acc.Reload()
        out = {"scalars": sorted(acc.Tags()["scalars"])}
        for tag, content in acc.PluginTagToContent("hparams").items():
            data = plugin_data_pb2.HParamsPluginData.FromString(content)
            if data.HasField("session_start_info"):
                info = data.session_start_info
                out["hparams"] = {k: v.WhichOneof("kind") + ":" + str(getattr(v, v.WhichOneof("kind"))) for k, v in info.hparams.items()}
                out["start"] = info.start_time_secs
            if data.HasField("session_end_info"):
                out["status"] = data.session_end_info.status
        print(json.dumps(out))
        """

    @Test("a finished run: its config as hparams (numbers, strings), status success, its metrics as scalars")
    func hparams() throws {
        let python = try #require(Interop.python, "no Python with tensorboard: run scripts/python-env.sh")
        let fixture = DashboardStore()
        let result = try Executables.run(
            try fixture.tool("TipiFixture"), ["log", "--project", "hp", "--steps", "20"],
            environment: ["TIPI_DIR": fixture.store, "TIPI_BACKENDS": "tensorboard"], removing: DashboardStore.cleanEnvironment)
        try #require(result.status == 0, "\(result.standardError)")
        let folder = try #require(result.standardOutput.split(separator: "\n").first { $0.hasPrefix("run ") }?.split(separator: " ")[2])
        let read = try Executables.run(python, ["-c", Self.reader, String(folder)], removing: [], timeout: 120)
        try #require(read.status == 0, "\(read.standardError)")
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(read.standardOutput.utf8)) as? [String: Any])
        let hparams = try #require(facts["hparams"] as? [String: String], "no session_start_info: \(facts)")
        #expect(hparams["lr"] == "number_value:0.01")
        #expect(hparams["steps"] == "number_value:20.0")
        #expect(hparams["optimizer"] == "string_value:adam")
        #expect(facts["status"] as? Int == 1, "the session end (success) is missing: \(facts)")
        #expect((facts["scalars"] as? [String])?.contains("loss") == true)
        #expect((facts["start"] as? Double ?? 0) > 1_700_000_000)
    }
}
