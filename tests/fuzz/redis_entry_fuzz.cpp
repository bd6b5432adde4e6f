// libFuzzer target: Redis replies decoded as RedisReader does (see
// decode_resp.h). Every crash found goes into tests/fuzz/corpus/redis_entry,
// which the redis-entry suite replays.
#include "decode_resp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  relais::store::fuzz::decode_resp(data, size);
  return 0;
}
