import Foundation
import Testing
import TipiTestSupport

/// `tipi devices` as a real process, with a fake nvidia-smi standing in for the driver.
@Suite("tipi devices")
struct DevicesCommandTests {
    func tipi() throws -> String {
        try #require(Executables.path(of: "tipi"), "the tipi executable was not built: run `swift build` first")
    }

    func environment(_ fake: FakeNvidiaSMI, claims: String, extra: [String: String] = [:]) -> [String: String] {
        // A generous nvidia-smi timeout: on a loaded machine the default 5 s can pass and the CPU be chosen.
        ["TIPI_NVIDIA_SMI": fake.path, "TIPI_CLAIMS_DIR": claims, "TIPI_NVML": "0", "TIPI_NVIDIA_SMI_TIMEOUT": "60"]
            .merging(extra) { _, new in new }
    }

    func claimsDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString)").path
    }

    @Test("the table lists the GPUs and the CPU, and explains the choice")
    func table() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let result = try Executables.run(
            try tipi(), ["devices"], environment: environment(fake, claims: claimsDirectory()),
            removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
        #expect(result.status == 0)
        let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("DEVICE  NAME"))
        // Columns are padded to the widest cell (the CPU's model name may be the widest).
        func cells(_ line: String) -> [String] {
            line.split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        #expect(cells(lines[1]) == ["cuda:0", "NVIDIA A100-SXM4-80GB", "35.7 / 80.0 GiB", "0%", "-"])
        #expect(cells(lines[2]) == ["cuda:1", "NVIDIA A100-SXM4-80GB", "0.0 / 80.0 GiB", "37%", "-"])
        #expect(lines[4].hasPrefix("cpu "))
        #expect(result.standardOutput.contains("getDevice() would pick cuda:1: the most free memory among unclaimed GPUs, 80.0 GiB free of 80.0 GiB, 37% busy"))
        #expect(result.standardOutput.contains("found through: nvidia-smi"))
    }

    @Test("the H200's real readings: nvidia-smi and NVML show the same memory (the driver's reserved 615 MiB as used)")
    func reservedMemory() throws {
        let fake = try FakeNvidiaSMI(output: FakeNvidiaSMI.h200)
        defer { fake.remove() }
        let nvml = try FakeNVML(gpus: [FakeNVML.h200])
        defer { nvml.remove() }
        var outputs: [String] = []
        for (extra, source) in [([:], "nvidia-smi"), (["TIPI_NVML": "1", "TIPI_NVML_LIBRARY": nvml.path], "nvml")] {
            let result = try Executables.run(
                try tipi(), ["devices"], environment: environment(fake, claims: claimsDirectory(), extra: extra),
                removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
            #expect(result.status == 0, "\(result.standardError)")
            let lines = result.standardOutput.split(separator: "\n").map(String.init)
            let gpu = try #require(lines.first { $0.hasPrefix("cuda:0 ") })
            #expect(gpu.contains(" 0.6 / 140.4 GiB "), "\(gpu)")
            #expect(result.standardOutput.contains("getDevice() would pick cuda:0: the most free memory among unclaimed GPUs, 139.8 GiB free of 140.4 GiB, 0% busy"))
            #expect(result.standardOutput.contains("found through: \(source)\n"))
            outputs.append(([gpu] + lines.filter { $0.hasPrefix("getDevice()") }).joined(separator: "\n"))
        }
        #expect(outputs.count == 2 && outputs[0] == outputs[1])
    }

    @Test("--json, with CUDA_VISIBLE_DEVICES renumbering the GPUs")
    func json() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let result = try Executables.run(
            try tipi(), ["devices", "--json"],
            environment: environment(fake, claims: claimsDirectory(), extra: ["CUDA_VISIBLE_DEVICES": "2,0"]))
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let devices = try #require(object["devices"] as? [[String: Any]])
        let first = try #require(devices.first?["device"] as? [String: Any])
        #expect(first["index"] as? Int == 0)
        #expect(first["physicalIndex"] as? Int == 2)
        #expect(devices.count == 3, "\(result.standardOutput) \(result.standardError)")
        let choice = try #require(object["choice"] as? [String: Any])
        #expect(choice["physicalIndex"] as? Int == 0)
        #expect(choice["index"] as? Int == 1)
        #expect(object["source"] as? String == "nvidia-smi")
    }

    @Test("two processes racing for the best GPU get different ones")
    func race() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let claims = claimsDirectory()
        let env = environment(fake, claims: claims)
        let first = try Executables.start(try tipi(), ["devices", "--claim", "3"], environment: env, removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
        let second = try Executables.start(try tipi(), ["devices", "--claim", "3"], environment: env, removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
        let a = first.wait().standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let b = second.wait().standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Set([a, b]) == ["cuda:1", "cuda:0"], "got \(a) and \(b)")
    }

    @Test("a claim dies with its process, even after kill -9")
    func killNine() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let claims = claimsDirectory()
        let env = environment(fake, claims: claims)
        let holder = try Executables.start(try tipi(), ["devices", "--claim", "60"], environment: env, removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
        let deadline = Date().addingTimeInterval(30)
        while holder.standardOutputSoFar.isEmpty, Date() < deadline { usleep(20_000) }
        #expect(holder.standardOutputSoFar == "cuda:1\n", "the holder's standard error: \(holder.standardErrorSoFar)")
        let busy = try Executables.run(try tipi(), ["devices"], environment: env, removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
        #expect(busy.standardOutput.contains("pid \(holder.pid)"))
        #expect(busy.standardOutput.contains("getDevice() would pick cuda:0"))
        holder.signal(SIGKILL)
        _ = holder.wait()
        let after = try Executables.run(try tipi(), ["devices", "--claim", "0"], environment: env, removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
        #expect(after.standardOutput == "cuda:1\n")
    }

    @Test("TIPI_DEVICE naming a missing device: a clear error, non-zero exit")
    func missingDevice() throws {
        let fake = try FakeNvidiaSMI()
        defer { fake.remove() }
        let result = try Executables.run(
            try tipi(), ["devices", "--claim", "0"],
            environment: environment(fake, claims: claimsDirectory(), extra: ["TIPI_DEVICE": "cuda:7"]),
            removing: ["CUDA_VISIBLE_DEVICES"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("TIPI_DEVICE=cuda:7: no such device here; devices found: cuda:0, cuda:1, cuda:2, cpu"))
    }

    @Test("no driver, garbage output: the CPU and one warning line, never a crash")
    func faults() throws {
        let noDriver = try FakeNvidiaSMI.noDriver()
        defer { noDriver.remove() }
        let result = try Executables.run(
            try tipi(), ["devices", "--claim", "0"], environment: environment(noDriver, claims: claimsDirectory()),
            removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
        #expect(result.status == 0)
        #expect(result.standardOutput == "cpu\n")
        #expect(result.standardError == "tipi: warning: nvidia-smi cannot reach the NVIDIA driver (exit 9); using the CPU\n")

        let garbage = try FakeNvidiaSMI(output: "\u{7}%%garbage,,\nNaN, ?, ?\n0, GPU-x, Half a li")
        defer { garbage.remove() }
        let bad = try Executables.run(
            try tipi(), ["devices", "--claim", "0"], environment: environment(garbage, claims: claimsDirectory()),
            removing: ["CUDA_VISIBLE_DEVICES", "TIPI_DEVICE"])
        #expect(bad.status == 0)
        #expect(bad.standardOutput == "cpu\n")
        #expect(bad.standardError.split(separator: "\n").count == 1)
        #expect(bad.standardError.hasSuffix("using the CPU\n"))
    }
}
