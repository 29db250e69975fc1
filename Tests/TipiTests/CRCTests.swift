import CTipiCRC
import Testing

@testable import Tipi

/// The checksums other tools verify (TensorBoard's records, W&B's log, Tipi's own metric log).
@Suite("CRC-32C and CRC-32")
struct CRCTests {
    @Test("the standard check values: crc32c(\"123456789\") = E3069283, crc32 = CBF43926")
    func checkValues() {
        let digits = Array("123456789".utf8)
        #expect(CRC32.castagnoli.checksum(digits) == 0xE306_9283)
        #expect(CRC32.castagnoliTable.checksum(digits) == 0xE306_9283)
        #expect(CRC32.ieee.checksum(digits) == 0xCBF4_3926)
        #expect(CRC32.castagnoli.checksum([UInt8]()) == 0)
        // 32 bytes of zeros (RFC 3720, iSCSI's test vectors).
        #expect(CRC32.castagnoli.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32.castagnoli.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    @Test("the processor's instruction and the tables agree at every length and alignment, and when continued")
    func hardwareMatchesTables() {
        // x86-64 machines since 2008 have the instruction (SSE 4.2), as every Apple arm64: the hardware path is tested.
        #if arch(x86_64) || (arch(arm64) && os(macOS))
            #expect(tipi_crc32c_hardware() != 0)
        #endif
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4_200).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for offset in 0..<8 {
            for length in [0, 1, 7, 8, 9, 15, 16, 63, 64, 65, 255, 1_000, 4_000 - offset] {
                let slice = bytes[offset..<(offset + length)]
                #expect(CRC32.castagnoli.checksum(slice) == CRC32.castagnoliTable.checksum(slice), "offset \(offset), length \(length)")
            }
        }
        let first = CRC32.castagnoli.checksum(bytes[..<1_001])
        #expect(CRC32.castagnoli.checksum(bytes[1_001...], initial: first) == CRC32.castagnoliTable.checksum(bytes))
    }
}
