// Decoding one Redis Stream entry into a frame, as a reader does: no I/O, so
// tests and the fuzzer call it on replies of any shape.
#pragma once

#include <hiredis/hiredis.h>

#include "frame.h"
#include "redis_schema.h"

namespace relais::store {

// Decodes `entry` ([id, [field, value, ...]], from XREAD or XRANGE). Returns
// false when it has no valid id; else sets *id and, when the fields are an
// array, *out (true in *has_frame). Unknown fields and garbage values are
// ignored (numbers that do not parse are unknown). `caps` is the caps in
// effect, updated when the entry carries others. The payload is taken out of
// the reply without a copy (see take_string).
bool decode_entry(redisReply* entry, CapsString* caps, redis_schema::StreamId* id, Frame* out,
                  bool* has_frame);

// Moves a bulk string out of its reply into its own Bytes (freeReplyObject
// then skips it); empty for anything that is not a non-empty bulk string.
Bytes take_string(redisReply* value);

// A decimal field value; `fallback` when it is not one.
uint64_t parse_u64(const redisReply* value, uint64_t fallback);

}  // namespace relais::store
