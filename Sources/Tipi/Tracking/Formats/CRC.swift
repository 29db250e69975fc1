/// Table-driven CRC-32 variants: Castagnoli (CRC-32C, used by TFRecord and Tipi's metric log) and IEEE
/// (zlib's CRC-32, used by W&B's transaction log). Slicing-by-8 for throughput.
struct CRC32: Sendable {
    private let tables: [[UInt32]]

    /// CRC-32C, reflected polynomial 0x82F63B78; `crc32c("123456789") == 0xE3069283`.
    static let castagnoli = CRC32(polynomial: 0x82F6_3B78)
    /// CRC-32/IEEE, reflected polynomial 0xEDB88320 (zlib); `crc32("123456789") == 0xCBF43926`.
    static let ieee = CRC32(polynomial: 0xEDB8_8320)

    init(polynomial: UInt32) {
        var base = [UInt32](repeating: 0, count: 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            base[index] = crc
        }
        var tables = [base]
        for level in 1..<8 {
            tables.append((0..<256).map { index in
                let previous = tables[level - 1][index]
                return (previous >> 8) ^ base[Int(previous & 0xFF)]
            })
        }
        self.tables = tables
    }

    /// The checksum of `bytes`, continuing from `initial` (a previous result) when given.
    func checksum<C: Collection>(_ bytes: C, initial: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var crc = ~initial
        if let result = bytes.withContiguousStorageIfAvailable({ buffer -> UInt32 in
            update(&crc, buffer)
            return ~crc
        }) {
            return result
        }
        let copy = Array(bytes)
        return copy.withUnsafeBufferPointer { buffer in
            update(&crc, buffer)
            return ~crc
        }
    }

    private func update(_ crc: inout UInt32, _ buffer: UnsafeBufferPointer<UInt8>) {
        var index = 0
        let count = buffer.count
        tables[0].withUnsafeBufferPointer { t0 in
            tables[1].withUnsafeBufferPointer { t1 in
                tables[2].withUnsafeBufferPointer { t2 in
                    tables[3].withUnsafeBufferPointer { t3 in
                        tables[4].withUnsafeBufferPointer { t4 in
                            tables[5].withUnsafeBufferPointer { t5 in
                                tables[6].withUnsafeBufferPointer { t6 in
                                    tables[7].withUnsafeBufferPointer { t7 in
                                        while count - index >= 8 {
                                            let low =
                                                crc ^ (UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8
                                                    | UInt32(buffer[index + 2]) << 16 | UInt32(buffer[index + 3]) << 24)
                                            crc =
                                                t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)]
                                                ^ t5[Int((low >> 16) & 0xFF)] ^ t4[Int(low >> 24)]
                                                ^ t3[Int(buffer[index + 4])] ^ t2[Int(buffer[index + 5])]
                                                ^ t1[Int(buffer[index + 6])] ^ t0[Int(buffer[index + 7])]
                                            index += 8
                                        }
                                        while index < count {
                                            crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(buffer[index])) & 0xFF)]
                                            index += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// TFRecord's masking of CRC-32C values.
    static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
