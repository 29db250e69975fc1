import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Redraws the shared display as soon as the terminal is resized (`SIGWINCH`), rather than at the next refresh.
///
/// Installed only when the program has no `SIGWINCH` handler of its own, so Tipi never takes a signal away.
enum WindowSizeWatcher {
    nonisolated(unsafe) private static var source: (any DispatchSourceSignal)?

    static func start(_ display: ProgressDisplay) {
        var current = sigaction()
        guard sigaction(SIGWINCH, nil, &current) == 0 else { return }
        #if canImport(Darwin)
            let handler = unsafeBitCast(current.__sigaction_u.__sa_handler, to: Int.self)
        #else
            let handler = unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
        #endif
        guard handler == unsafeBitCast(SIG_DFL, to: Int.self) else { return }
        signal(SIGWINCH, SIG_IGN)
        let signalSource = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global(qos: .utility))
        signalSource.setEventHandler { display.refresh() }
        signalSource.resume()
        source = signalSource
    }
}
