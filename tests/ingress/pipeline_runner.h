// Runs a gst-launch description ending in "appsink name=sink" and records what
// a user would watch: the samples that arrive and the messages on the bus.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "gst_handles.h"

namespace relais::test {

class PipelineRunner {
 public:
  explicit PipelineRunner(const std::string& description);
  ~PipelineRunner();
  PipelineRunner(const PipelineRunner&) = delete;
  PipelineRunner& operator=(const PipelineRunner&) = delete;

  bool ok() const { return pipeline_ != nullptr; }
  GstElement* pipeline() const { return pipeline_; }
  GstStateChangeReturn play();

  // The next sample from the appsink, or null after `timeout` / at EOS.
  SamplePtr pull(std::chrono::milliseconds timeout);
  bool sink_eos();

  // Waits until a message matching `pred` has been posted (or was already).
  bool wait_for(const std::function<bool(GstMessage*)>& pred, std::chrono::milliseconds timeout);
  bool wait_for_error(std::chrono::milliseconds timeout, std::string* text = nullptr,
                      std::string* source = nullptr);
  bool wait_for_eos(std::chrono::milliseconds timeout);
  // Waits for a relais-source element message with this status.
  bool wait_for_source_status(const std::string& status, std::chrono::milliseconds timeout);
  // Messages of a type seen so far.
  int count(GstMessageType type);
  // Element messages named relais-source with the given status, in order.
  std::vector<GstStructure*> source_status(const std::string& status);
  std::string first_error_text();
  // Every message seen so far as text a user could read: errors, warnings and
  // infos (message and debug string), progress texts and element structures.
  std::string all_text();

 private:
  static GstBusSyncReply on_message(GstBus*, GstMessage* message, gpointer self);

  GstElement* pipeline_ = nullptr;
  GstAppSink* sink_ = nullptr;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<MessagePtr> messages_;  // guarded by mutex_
};

}  // namespace relais::test
