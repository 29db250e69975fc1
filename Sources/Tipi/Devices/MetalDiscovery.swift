#if canImport(Metal)
    import Metal

    /// Finds Apple GPUs through Metal (macOS), so `getDevice()` answers `metal:0` there.
    struct MetalDiscovery: GPUDiscovery {
        var name: String { "metal" }

        func discover() -> GPUDiscoveryResult? {
            #if os(macOS)
                let devices = MTLCopyAllDevices()
            #else
                let devices = MTLCreateSystemDefaultDevice().map { [$0] } ?? []
            #endif
            guard !devices.isEmpty else { return nil }
            let gpus = devices.enumerated().map { offset, device in
                let total = Int64(clamping: device.recommendedMaxWorkingSetSize)
                let used = Int64(clamping: device.currentAllocatedSize)
                return GPUInfo(
                    index: offset, uuid: nil, name: TerminalText.printable(device.name), memoryTotal: total, memoryUsed: used,
                    memoryFree: max(total - used, 0), utilization: nil)
            }
            return GPUDiscoveryResult(gpus: gpus, source: name, warnings: [])
        }
    }
#endif
