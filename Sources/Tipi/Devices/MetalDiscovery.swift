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
                // `currentAllocatedSize` is this process's allocation only. Apple GPUs share the system's
                // memory, so what other programs leave is what the system has available (up to the GPU's
                // recommended working set).
                let total = Int64(clamping: device.recommendedMaxWorkingSetSize)
                let free = min(total, Platform.availableMemory() ?? (total - Int64(clamping: device.currentAllocatedSize)))
                return GPUInfo(
                    index: offset, uuid: nil, name: TerminalText.printable(device.name), memoryTotal: total,
                    memoryUsed: max(total - free, 0), memoryFree: max(free, 0), utilization: nil)
            }
            return GPUDiscoveryResult(gpus: gpus, source: name, warnings: [])
        }
    }
#endif
