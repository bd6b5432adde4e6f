// The Redis key schema (see README): one stream's keys share the {stream}
// hash tag so they live in one Redis Cluster slot.
//   relais:{S}:frames  Redis Stream, one entry per frame
//   relais:{S}:meta    hash: caps, keyframe (entry id), writer, updated, fps, bitrate
//   relais:streams     sorted set of stream names scored by last update (ms)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace relais::store::redis_schema {

inline std::string frames_key(const std::string& stream) {
  return "relais:{" + stream + "}:frames";
}
inline std::string meta_key(const std::string& stream) {
  return "relais:{" + stream + "}:meta";
}
inline constexpr const char* kStreamsIndex = "relais:streams";

// Entry fields.
inline constexpr std::string_view kPayload = "d";
inline constexpr std::string_view kFlags = "f";
inline constexpr std::string_view kPts = "pts";
inline constexpr std::string_view kDts = "dts";
inline constexpr std::string_view kDuration = "dur";
inline constexpr std::string_view kCaps = "c";
inline constexpr std::string_view kEpoch = "e";  // the writer's fence epoch, when fenced
// Meta field: the newest fence epoch that wrote the stream.
inline constexpr std::string_view kMetaEpoch = "epoch";

// Fenced XADD, atomic in the stream's slot. KEYS[1] = frames key, KEYS[2] =
// meta key; ARGV[1] = the writer's epoch, ARGV[2..] = XADD's arguments after
// the key. Refuses ("FENCED ...") when the meta names a newer epoch, else
// records the epoch and adds the entry (with field e = epoch).
inline constexpr const char* kFencedXaddScript = R"lua(
local newest = tonumber(redis.call('HGET', KEYS[2], 'epoch') or '0')
local mine = tonumber(ARGV[1])
if mine < newest then
  return redis.error_reply('FENCED stream written by epoch ' .. newest .. ', this writer has ' .. mine)
end
if mine > newest then redis.call('HSET', KEYS[2], 'epoch', ARGV[1]) end
local args = {}
for i = 2, #ARGV do args[#args + 1] = ARGV[i] end
args[#args + 1] = 'e'
args[#args + 1] = ARGV[1]
return redis.call('XADD', KEYS[1], unpack(args))
)lua";

// A Redis Stream entry id, "<ms>-<seq>".
struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  std::string str() const { return std::to_string(ms) + "-" + std::to_string(seq); }
  bool operator<(const StreamId& o) const { return ms < o.ms || (ms == o.ms && seq < o.seq); }
  bool operator==(const StreamId& o) const { return ms == o.ms && seq == o.seq; }
  // The id just before this one, so XREAD (exclusive) returns this one first.
  StreamId predecessor() const {
    if (seq > 0) return {ms, seq - 1};
    if (ms > 0) return {ms - 1, UINT64_MAX};
    return {0, 0};
  }
  static bool parse(std::string_view s, StreamId* out);
};

}  // namespace relais::store::redis_schema
