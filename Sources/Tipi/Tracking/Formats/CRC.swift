internal import CTipiCRC

/// Table-driven CRC-32 variants: Castagnoli (CRC-32C, used by TFRecord and Tipi's metric log) and IEEE
/// (zlib's CRC-32, used by W&B's transaction log). Slicing-by-8 for throughput, and CRC-32C with the processor's
/// instruction where it has one (`CTipiCRC`).
struct CRC32: Sendable {
    /// Eight tables of 256 entries, one after the other.
    private let tables: [UInt32]
    /// CRC-32C in hardware (``tipi_crc32c_update``), where the processor has the instruction.
    private let hardware: Bool

    /// CRC-32C, reflected polynomial 0x82F63B78; `crc32c("123456789") == 0xE3069283`.
    static let castagnoli = CRC32(polynomial: 0x82F6_3B78, hardware: tipi_crc32c_hardware() != 0)
    /// CRC-32C from the tables, whatever the processor has (to check the hardware path against).
    static let castagnoliTable = CRC32(polynomial: 0x82F6_3B78)
    /// CRC-32/IEEE, reflected polynomial 0xEDB88320 (zlib); `crc32("123456789") == 0xCBF43926`.
    static let ieee = CRC32(polynomial: 0xEDB8_8320)

    /// The tables of `polynomial`; `hardware` only for Castagnoli's, on a processor that has the instruction.
    init(polynomial: UInt32, hardware: Bool = false) {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            tables[index] = crc
        }
        for level in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(level - 1) * 256 + index]
                tables[level * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        self.tables = tables
        self.hardware = hardware
    }

    /// The checksum of `bytes`, continuing from `initial` (a previous result) when given.
    func checksum<C: Collection>(_ bytes: C, initial: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var crc = ~initial
        if let result = bytes.withContiguousStorageIfAvailable({ buffer -> UInt32 in
            update(&crc, UnsafeRawBufferPointer(buffer))
            return ~crc
        }) {
            return result
        }
        let copy = Array(bytes)
        return copy.withUnsafeBytes { buffer in
            update(&crc, buffer)
            return ~crc
        }
    }

    private func update(_ crc: inout UInt32, _ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        if hardware {
            crc = tipi_crc32c_update(crc, base, buffer.count)
            return
        }
        // Slicing-by-8: eight bytes per step, one table each.
        var index = 0
        let count = buffer.count
        tables.withUnsafeBufferPointer { table in
            while count - index >= 8 {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self).littleEndian
                let low = crc ^ UInt32(truncatingIfNeeded: word)
                let high = UInt32(truncatingIfNeeded: word >> 32)
                crc =
                    table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(base.load(fromByteOffset: index, as: UInt8.self))) & 0xFF)]
                index += 1
            }
        }
    }

    /// TFRecord's masking of CRC-32C values.
    static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
