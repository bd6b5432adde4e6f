#include "redis_entry.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace relais::store {
namespace {

void free_reply_string(gpointer str) {
#if HIREDIS_MAJOR >= 1
  hi_free(str);
#else
  free(str);  // hiredis 0.14 allocates reply strings with malloc
#endif
}

bool is_string(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) && r->str;
}

std::string_view view(const redisReply* r) {
  return is_string(r) ? std::string_view(r->str, r->len) : std::string_view();
}

}  // namespace

uint64_t parse_u64(const redisReply* value, uint64_t fallback) {
  std::string_view s = view(value);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return (!s.empty() && ec == std::errc() && end == s.data() + s.size()) ? v : fallback;
}

Bytes take_string(redisReply* value) {
  if (!value || value->type != REDIS_REPLY_STRING || value->len == 0 || !value->str)
    return Bytes::copy_of("", 0);
  char* str = value->str;
  auto len = static_cast<gsize>(value->len);
  value->str = nullptr;
  value->len = 0;
  return Bytes::adopt(g_bytes_new_with_free_func(str, len, free_reply_string, str));
}

bool decode_entry(redisReply* entry, CapsString* caps, redis_schema::StreamId* id, Frame* out,
                  bool* has_frame) {
  *has_frame = false;
  if (!entry || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return false;
  if (!redis_schema::StreamId::parse(view(entry->element[0]), id)) return false;
  redisReply* fields = entry->element[1];
  if (!fields || fields->type != REDIS_REPLY_ARRAY) return true;
  Frame frame;
  frame.caps = *caps;
  for (size_t f = 0; f + 1 < fields->elements; f += 2) {
    std::string_view name = view(fields->element[f]);
    redisReply* value = fields->element[f + 1];
    if (name == redis_schema::kPayload) {
      frame.payload = take_string(value);
    } else if (name == redis_schema::kFlags) {
      frame.flags = static_cast<uint32_t>(parse_u64(value, 0));
    } else if (name == redis_schema::kPts) {
      frame.pts = parse_u64(value, kTimeNone);
    } else if (name == redis_schema::kDts) {
      frame.dts = parse_u64(value, kTimeNone);
    } else if (name == redis_schema::kDuration) {
      frame.duration = parse_u64(value, kTimeNone);
    } else if (name == redis_schema::kCaps && is_string(value)) {
      std::string_view c = view(value);
      if (!*caps || **caps != c) *caps = make_caps(std::string(c));
      frame.caps = *caps;
    }
  }
  if (!frame.payload) frame.payload = Bytes::copy_of("", 0);
  *out = std::move(frame);
  *has_frame = true;
  return true;
}

}  // namespace relais::store
