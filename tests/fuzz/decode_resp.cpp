#include "decode_resp.h"

#include <hiredis/hiredis.h>

#include <cctype>

#include "redis_entry.h"

namespace relais::store::fuzz {
namespace {

size_t decode_all(redisReply* entries, CapsString* caps) {
  if (entries->type != REDIS_REPLY_ARRAY) return 0;
  size_t frames = 0;
  for (size_t i = 0; i < entries->elements; ++i) {
    redis_schema::StreamId id;
    Frame frame;
    bool has_frame = false;
    if (decode_entry(entries->element[i], caps, &id, &frame, &has_frame) && has_frame) {
      frames++;
      if (frame.payload.size() > 0) (void)frame.payload.data()[frame.payload.size() - 1];
    }
  }
  return frames;
}

// hiredis 0.14 allocates a multi-bulk's element array as its header says,
// before any element arrives: "*600000000" alone asks for 4.8 GB. Redis never
// sends that to a reader (it reads COUNT 64), so such inputs are skipped.
bool declares_more_elements_than_bytes(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (data[i] != '*') continue;
    size_t n = 0;
    for (size_t j = i + 1; j < size && isdigit(data[j]) && n <= size; ++j)
      n = n * 10 + (data[j] - '0');
    if (n > size) return true;
  }
  return false;
}

}  // namespace

size_t decode_resp(const uint8_t* data, size_t size) {
  if (declares_more_elements_than_bytes(data, size)) return 0;
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, reinterpret_cast<const char*>(data), size);
  CapsString caps;
  size_t frames = 0;
  void* r = nullptr;
  while (redisReaderGetReply(reader, &r) == REDIS_OK && r) {
    auto* reply = static_cast<redisReply*>(r);
    // XREAD: the reader looks at the first stream only.
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
      frames += decode_all(reply->element[0]->element[1], &caps);
    frames += decode_all(reply, &caps);  // XRANGE
    freeReplyObject(reply);
    r = nullptr;
  }
  redisReaderFree(reader);
  return frames;
}

}  // namespace relais::store::fuzz
