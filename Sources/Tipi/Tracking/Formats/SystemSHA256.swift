import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The system's SHA-256, loaded at run time like NVML (nothing links against it): OpenSSL's libcrypto on
/// Linux, CommonCrypto on macOS. Hashing a checkpoint of gigabytes must not take minutes in a debug build
/// (where Tipi's own ``SHA256`` runs unoptimised, about 1 MB/s); without the library, ``SHA256`` is used.
/// One hasher is used from one thread at a time.
final class SystemSHA256: @unchecked Sendable {
    private typealias Initialize = @convention(c) (UnsafeMutableRawPointer) -> Int32
    private typealias Update = @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer?, Int) -> Int32
    private typealias Final = @convention(c) (UnsafeMutablePointer<UInt8>, UnsafeMutableRawPointer) -> Int32

    private struct Functions: @unchecked Sendable {
        let initialize: Initialize
        let update: Update
        let final: Final
    }

    /// The library's functions, looked up once (`nil` when there is no such library).
    private static let functions: Functions? = {
        #if canImport(Darwin)
            let handle = dlopen("/usr/lib/libSystem.B.dylib", RTLD_NOW | RTLD_LOCAL)
            let names = ("CC_SHA256_Init", "CC_SHA256_Update", "CC_SHA256_Final")
        #else
            let libraries: [String] = ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"]
            let handle = libraries.lazy.compactMap { (name: String) in dlopen(name, RTLD_NOW | RTLD_LOCAL) }.first
            let names = ("SHA256_Init", "SHA256_Update", "SHA256_Final")
        #endif
        guard let handle, let initialize = dlsym(handle, names.0), let update = dlsym(handle, names.1),
            let final = dlsym(handle, names.2)
        else { return nil }
        // The library stays loaded for the life of the process.
        return Functions(
            initialize: unsafeBitCast(initialize, to: Initialize.self), update: unsafeBitCast(update, to: Update.self),
            final: unsafeBitCast(final, to: Final.self))
    }()

    private let functions: Functions
    /// The library's context (OpenSSL's SHA256_CTX is 112 bytes, CommonCrypto's 104): room for more.
    private let context = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)

    /// A hasher, or `nil` when the system has no SHA-256 library (or it fails to start).
    init?() {
        guard let functions = Self.functions else { return nil }
        self.functions = functions
        context.initializeMemory(as: UInt8.self, repeating: 0, count: 512)
        guard functions.initialize(context) == 1 else {
            context.deallocate()
            return nil
        }
    }

    deinit {
        context.deallocate()
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard digest == nil else { return }
        _ = functions.update(context, bytes.baseAddress, bytes.count)
    }

    private var digest: String?

    /// The digest as 64 lowercase hexadecimal digits; the first call ends the hashing (later calls give
    /// the same digest, later updates are ignored).
    func hexDigest() -> String {
        if let digest { return digest }
        let text = finalize()
        digest = text
        return text
    }

    private func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        digest.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { _ = functions.final(base, context) }
        }
        return digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
