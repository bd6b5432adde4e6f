// What the fuzzer runs, shared with the regression test that replays the
// corpus: bytes as Redis replies, decoded as RedisReader does.
#pragma once

#include <cstddef>
#include <cstdint>

namespace relais::store::fuzz {

// Parses `data` as RESP replies with hiredis and decodes each as an XREAD
// reply ([[key, [entry...]]]) and as an XRANGE reply ([entry...]). Returns
// the number of frames decoded.
size_t decode_resp(const uint8_t* data, size_t size);

}  // namespace relais::store::fuzz
