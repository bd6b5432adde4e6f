// Fenced writes against a real redis-server: a writer whose epoch is older
// than the newest one that wrote the stream is refused, atomically with the
// XADD, and relaisstoresink errors out instead of interleaving frames.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "redis_server.h"
#include "registry.h"

using namespace relais::store;

namespace {

Frame frame(uint64_t n, bool keyframe = true) {
  Frame f;
  std::string payload = "frame-" + std::to_string(n);
  f.payload = relais::Bytes::copy_of(payload.data(), payload.size());
  f.pts = n;
  f.flags = keyframe ? kFlagKeyframe : 0;
  f.caps = make_caps("video/x-h264");
  return f;
}

std::unique_ptr<Writer> writer(const std::shared_ptr<Store>& store, int64_t epoch) {
  std::unique_ptr<Writer> w;
  EXPECT_TRUE(store->open_writer("cam", Retention{}, &w).is_ok());
  if (w) w->set_fence_epoch(epoch);
  return w;
}

}  // namespace

TEST(RedisFencing, AnOlderEpochIsRefusedOnceANewerOneHasWritten) {
  relais::test::RedisServer redis;
  std::string err;
  ASSERT_TRUE(redis.start(&err)) << err;
  std::shared_ptr<Store> store;
  ASSERT_TRUE(open_store(redis.uri(), &store).is_ok());
  auto old_owner = writer(store, 1);
  auto new_owner = writer(store, 2);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(old_owner->write(frame(i)), WriteResult::kWritten);
  EXPECT_EQ(new_owner->write(frame(3, false)), WriteResult::kDropped);  // waits for a keyframe
  EXPECT_EQ(new_owner->write(frame(3)), WriteResult::kWritten);
  EXPECT_EQ(old_owner->write(frame(4)), WriteResult::kFenced);
  EXPECT_NE(old_owner->last_error().find("FENCED"), std::string::npos) << old_owner->last_error();
  EXPECT_EQ(new_owner->write(frame(5)), WriteResult::kWritten);
  EXPECT_EQ(old_owner->write(frame(6)), WriteResult::kFenced);
  EXPECT_EQ(old_owner->stats().dropped, 2u);
  // Each owner's first frame is a keyframe marked discont (flags 1 + 2), the rest keyframes.
  EXPECT_EQ(redis.stream_field("relais:{cam}:frames", "f"),
            (std::vector<std::string>{"3", "1", "1", "3", "1"}));
  EXPECT_EQ(redis.cli("HGET 'relais:{cam}:meta' epoch"), "2");
  EXPECT_EQ(redis.stream_field("relais:{cam}:frames", "e"),
            (std::vector<std::string>{"1", "1", "1", "2", "2"}));

  // An unfenced writer (epoch 0) writes plain entries, without an epoch.
  ASSERT_TRUE(store->delete_stream("cam").is_ok());
  redis.cli("DEL 'relais:{cam}:meta'");
  auto plain = writer(store, 0);
  EXPECT_EQ(plain->write(frame(7)), WriteResult::kWritten);
  EXPECT_EQ(redis.stream_field("relais:{cam}:frames", "e"), std::vector<std::string>{"-"});
}

TEST(RedisFencing, AFencedSinkPostsAnErrorAndWritesNothing) {
  relais::test::RedisServer redis;
  std::string err;
  ASSERT_TRUE(redis.start(&err)) << err;
  redis.cli("HSET 'relais:{cam}:meta' epoch 5");
  std::string launch =
      "videotestsrc num-buffers=20 ! video/x-raw,width=160,height=120 ! "
      "relaisstoresink fence-epoch=4 stream=cam store=" +
      redis.uri();
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(launch.c_str(), &error);
  ASSERT_TRUE(pipeline) << (error ? error->message : "");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(
      bus, 10 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_ERROR);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(msg, &e, nullptr);
    EXPECT_NE(std::string(e->message).find("newer owner"), std::string::npos) << e->message;
    g_error_free(e);
  }
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  EXPECT_EQ(redis.cli("XLEN 'relais:{cam}:frames'"), "0");

  // The same sink at a newer epoch writes, and raises the stream's epoch.
  launch =
      "videotestsrc num-buffers=5 ! video/x-raw,width=160,height=120 ! "
      "relaisstoresink fence-epoch=6 stream=cam store=" +
      redis.uri();
  pipeline = gst_parse_launch(launch.c_str(), nullptr);
  ASSERT_TRUE(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus(pipeline);
  msg = gst_bus_timed_pop_filtered(
      bus, 10 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
  ASSERT_TRUE(msg);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS);
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  EXPECT_EQ(redis.cli("XLEN 'relais:{cam}:frames'"), "5");
  EXPECT_EQ(redis.cli("HGET 'relais:{cam}:meta' epoch"), "6");
}
