// No credential from relaissrc's uri (the password in the user info, a
// credential in the query) reaches a bus message or relaissrc's debug log.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>

#include "pipeline_runner.h"
#include "rtsp_test_server.h"
#include "temp_dir.h"

namespace relais::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "s3cr3t";

// Collects relaissrc's own debug lines, at every level, while it lives.
class RelaisSrcLog {
 public:
  RelaisSrcLog() {
    gst_debug_set_threshold_for_name("relaissrc", GST_LEVEL_MEMDUMP);
    gst_debug_add_log_function(on_log, this, nullptr);
  }
  ~RelaisSrcLog() {
    gst_debug_remove_log_function_by_data(this);
    gst_debug_unset_threshold_for_name("relaissrc");
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  size_t lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  static void on_log(GstDebugCategory* category, GstDebugLevel, const gchar*, const gchar*, gint,
                     GObject*, GstDebugMessage* message, gpointer data) {
    if (g_strcmp0(gst_debug_category_get_name(category), "relaissrc") != 0) return;
    auto* self = static_cast<RelaisSrcLog*>(data);
    std::lock_guard lock(self->mutex_);
    self->text_ += gst_debug_message_get(message);
    self->text_ += "\n";
    ++self->lines_;
  }
  std::mutex mutex_;
  std::string text_;  // guarded by mutex_
  size_t lines_ = 0;  // guarded by mutex_
};

std::string sink_part() {
  return " ! appsink name=sink sync=false max-buffers=200 drop=true";
}

class RelaisSrcMalformedUri : public ::testing::TestWithParam<const char*> {};

TEST_P(RelaisSrcMalformedUri, ErrorDoesNotRepeatTheCredentials) {
  RelaisSrcLog log;
  PipelineRunner run(std::string("relaissrc name=src uri=\"") + GetParam() + "\"" + sink_part());
  ASSERT_TRUE(run.ok());
  run.play();
  std::string text;
  ASSERT_TRUE(run.wait_for_error(5s, &text));
  EXPECT_NE(text, "");
  EXPECT_EQ(run.all_text().find(kSecret), std::string::npos) << run.all_text();
  EXPECT_EQ(log.text().find(kSecret), std::string::npos) << log.text();
}

INSTANTIATE_TEST_SUITE_P(Uris, RelaisSrcMalformedUri,
                         ::testing::Values("rtsp://admin:s3cr3t@host:99999/",
                                           "rtsp://admin:s3cr3t@[::1/x",
                                           "rtsps://admin:s3cr3t@host:port/live",
                                           "rtsp://admin:pa/s3cr3t@host/live",
                                           "rtsp://cam:99999/live?password=s3cr3t",
                                           "gopher://admin:s3cr3t@host/x?token=s3cr3t",
                                           "rtsp://admin:s3cr3t@/live?pwd=s3cr3t"));

// An RTSP camera that is not there: relaissrc retries, and says so in
// relais-source messages (uri, reason); rtspsrc posts progress ("Connecting
// to ...") and errors that relaissrc turns into reasons.
TEST(RelaisSrcCredentials, ReconnectMessagesDoNotCarryCredentials) {
  RelaisSrcLog log;
  const std::string port = std::to_string(free_loopback_port());
  const std::string uri =
      "rtsp://admin:s3cr3t@127.0.0.1:" + port + "/test?user=admin&password=s3cr3t";
  PipelineRunner run("relaissrc name=src uri=\"" + uri +
                     "\" rtsp-transport=tcp retry-delay=20 max-retry-delay=40" + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (run.source_status("reconnecting").size() < 3 &&
         std::chrono::steady_clock::now() < deadline)
    run.wait_for_source_status("never", 20ms);
  auto attempts = run.source_status("reconnecting");
  ASSERT_GE(attempts.size(), 3u);
  EXPECT_EQ(std::string(gst_structure_get_string(attempts[0], "uri")),
            "rtsp://admin:***@127.0.0.1:" + port + "/test?user=***&password=***");
  ASSERT_EQ(gst_element_set_state(run.pipeline(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  EXPECT_EQ(run.all_text().find(kSecret), std::string::npos) << run.all_text();
  EXPECT_GT(log.lines(), 0u);
  EXPECT_EQ(log.text().find(kSecret), std::string::npos) << log.text();
}

// A camera that answers, with the credential in the query as some cameras
// want it: the stream plays, and "connected" names the masked URI.
TEST(RelaisSrcCredentials, ConnectedMessageMasksTheQuery) {
  RelaisSrcLog log;
  RtspTestServer server;
  ASSERT_TRUE(server.start());
  PipelineRunner run("relaissrc name=src uri=\"" + server.uri() + "?token=s3cr3t\"" +
                     " rtsp-transport=tcp" + sink_part());
  ASSERT_TRUE(run.ok());
  ASSERT_NE(run.play(), GST_STATE_CHANGE_FAILURE);
  ASSERT_NE(run.pull(5s), nullptr) << run.first_error_text();
  auto connected = run.source_status("connected");
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(std::string(gst_structure_get_string(connected[0], "uri")),
            server.uri() + "?token=***");
  EXPECT_EQ(run.all_text().find(kSecret), std::string::npos) << run.all_text();
  EXPECT_EQ(log.text().find(kSecret), std::string::npos) << log.text();
}

}  // namespace
}  // namespace relais::test
