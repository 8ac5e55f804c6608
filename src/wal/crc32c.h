// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by LevelDB, ext4,
// iSCSI and SSE4.2's crc32 instruction, plus LevelDB's masking of stored checksums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lakelog::wal::crc32c {

// Returns the CRC32C of data[0, n) continuing from `init_crc`, the CRC of some earlier bytes
// A (0 for none), so that Extend(Value(A), B) == Value(A + B).
// Uses the SSE4.2 instruction when the CPU has it (checked once at run time), else a
// table-driven slicing-by-8 loop. Both produce identical results.
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view data) { return Extend(0, data.data(), data.size()); }

// The portable implementation, exposed so tests can compare it with the hardware path.
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);
// True when Extend() uses the SSE4.2 instruction.
bool HardwareAccelerated();

inline constexpr uint32_t kMaskDelta = 0xa282ead8u;

// A CRC computed over a string that itself contains embedded CRCs is weak, so stored CRCs are
// masked: rotated right by 15 bits plus a constant. Unmask(Mask(c)) == c.
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

inline uint32_t Unmask(uint32_t masked_crc) {
  uint32_t rot = masked_crc - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace lakelog::wal::crc32c
