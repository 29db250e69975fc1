#ifndef TIPI_CRC_H
#define TIPI_CRC_H

#include <stddef.h>
#include <stdint.h>

/// Whether this processor computes CRC-32C in hardware (SSE 4.2 on x86-64, the CRC extension on arm64).
int tipi_crc32c_hardware(void);

/// CRC-32C of `count` bytes, continuing from `state` (the running value, before the final inversion), in
/// hardware; only when `tipi_crc32c_hardware()` says so.
uint32_t tipi_crc32c_update(uint32_t state, const void *bytes, size_t count);

#endif
