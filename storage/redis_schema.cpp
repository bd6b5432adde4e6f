#include "redis_schema.h"

#include <charconv>

namespace relais::store::redis_schema {

bool StreamId::parse(std::string_view s, StreamId* out) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos) return false;
  StreamId id;
  auto r1 = std::from_chars(s.data(), s.data() + dash, id.ms);
  auto r2 = std::from_chars(s.data() + dash + 1, s.data() + s.size(), id.seq);
  if (r1.ec != std::errc() || r1.ptr != s.data() + dash || r2.ec != std::errc() ||
      r2.ptr != s.data() + s.size())
    return false;
  *out = id;
  return true;
}

}  // namespace relais::store::redis_schema
