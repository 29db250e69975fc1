import ArgumentParser
import Foundation
import Tipi

/// `tipi devices`: every device found, its memory and claims, and what `getDevice()` would pick and why.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List GPUs and the CPU, and show which device getDevice() would pick and why.",
        discussion: """
            GPUs are found through NVML or nvidia-smi (TIPI_NVIDIA_SMI), respecting CUDA_VISIBLE_DEVICES. \
            TIPI_DEVICE forces a choice; TIPI_MAX_MEMORY_USAGE (default 0.8) is the fullest a GPU may be.
            """
    )

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(
        name: .customLong("claim"), parsing: .unconditional,
        help: ArgumentHelp(
            "Claim the device getDevice() picks, print it, and hold it for this many seconds.",
            valueName: "seconds"))
    var holdSeconds: Double?

    func validate() throws {
        if let holdSeconds, !(holdSeconds.isFinite && (0...3600).contains(holdSeconds)) {
            throw ValidationError("--claim takes seconds from 0 to 3600, not \(holdSeconds)")
        }
    }

    func run() throws {
        if let holdSeconds {
            let device = try deviceManager.selectDevice()
            print(device)
            fflush(nil)
            usleep(UInt32(holdSeconds * 1_000_000))
            return
        }
        let inventory = deviceManager.inventory()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(inventory)
            print(String(decoding: data, as: UTF8.self))
        } else {
            for line in Self.table(inventory) { print(line) }
        }
    }

    /// The inventory as the lines `tipi devices` prints; every text from outside (GPU names, reasons,
    /// warnings) is made printable.
    static func table(_ inventory: DeviceInventory) -> [String] {
        let header = ["DEVICE", "NAME", "MEMORY USED / TOTAL", "UTIL", "CLAIMED BY"]
        var rows: [[String]] = [header]
        for entry in inventory.devices {
            let device = entry.device
            var memory = "-"
            if let total = device.memoryTotal {
                let used = device.memoryUsed.map { String(format: "%.1f", Double($0) / 1_073_741_824) } ?? "?"
                memory = "\(used) / \(String(format: "%.1f", Double(total) / 1_073_741_824)) GiB"
            }
            var name = TerminalText.printable(device.name)
            if device.kind == .cpu, let cores = device.cores { name += " (\(cores) cores)" }
            if let physical = device.physicalIndex, physical != device.index { name += " [nvidia-smi \(physical)]" }
            rows.append([
                device.description, name, memory, device.utilization.map { "\($0)%" } ?? "-",
                entry.claimedBy.map { $0 == getpid() ? "this process" : "pid \($0)" } ?? "-",
            ])
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        lines.append("")
        lines.append("getDevice() would pick \(inventory.choice): \(TerminalText.printable(inventory.reason))")
        lines.append("found through: \(inventory.source)")
        for warning in inventory.warnings { lines.append("warning: \(TerminalText.printable(warning))") }
        return lines
    }
}
