// The pipeline manager without a network: start, restart with back-off per
// policy, refusal of duplicates and unparsable descriptions.
#include <gtest/gtest.h>

#include <functional>

#include "backoff.h"
#include "pipeline_manager.h"

using namespace relais::server;
using namespace std::chrono_literals;

namespace {

// Runs the default main context until `done` or the timeout.
bool run_until(const std::function<bool()>& done, int timeout_ms = 10000) {
  gint64 deadline = g_get_monotonic_time() + gint64{timeout_ms} * 1000;
  while (!done()) {
    if (g_get_monotonic_time() > deadline) return false;
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(1000);
  }
  return true;
}

void run_for(int ms) {
  gint64 end = g_get_monotonic_time() + gint64{ms} * 1000;
  while (g_get_monotonic_time() < end) {
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(1000);
  }
}

BackoffPolicy fast_backoff() {
  BackoffPolicy p;
  p.initial = 20ms;
  p.max = 80ms;
  p.stable_after = 60s;
  return p;
}

// Fails each time it starts: filesrc cannot open a file that does not exist.
constexpr const char* kFailing = "filesrc location=/nonexistent/relais-test ! fakesink";
// Ends on its own after a few buffers.
constexpr const char* kEnding = "videotestsrc num-buffers=3 ! fakesink";

PipelineDefinition def(const std::string& name, const std::string& launch,
                       RestartPolicy restart = RestartPolicy::kAlways) {
  return PipelineDefinition{name, launch, restart};
}

}  // namespace

TEST(Backoff, DoublesFromInitialUpToTheCap) {
  BackoffPolicy p;
  p.initial = 100ms;
  p.max = 1000ms;
  EXPECT_EQ(backoff_delay(p, 0), 100ms);
  EXPECT_EQ(backoff_delay(p, 1), 200ms);
  EXPECT_EQ(backoff_delay(p, 2), 400ms);
  EXPECT_EQ(backoff_delay(p, 3), 800ms);
  EXPECT_EQ(backoff_delay(p, 4), 1000ms);
  EXPECT_EQ(backoff_delay(p, 1000), 1000ms);
}

TEST(PipelineManager, StartsAPipelineAndReportsItPlaying) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("live", "videotestsrc is-live=true ! fakesink"), false, &err),
            AddResult::kAdded)
      << err;
  ASSERT_TRUE(run_until([&] { return m.get("live")->state == PipelineState::kPlaying; }));
  run_for(50);
  auto s = m.get("live");
  EXPECT_GT(s->uptime_seconds, 0.0);
  EXPECT_EQ(s->restarts, 0u);
  EXPECT_TRUE(s->last_error.empty());
  bool removed = false;
  EXPECT_TRUE(m.remove("live", [&] { removed = true; }));
  ASSERT_TRUE(run_until([&] { return removed; }));
  EXPECT_FALSE(m.get("live"));
  EXPECT_FALSE(m.remove("live"));
}

TEST(PipelineManager, AFailingPipelineIsRestartedUnderAlways) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("bad", kFailing), false, &err), AddResult::kAdded) << err;
  ASSERT_TRUE(run_until([&] { return m.get("bad")->restarts >= 4; }));
  auto s = m.get("bad");
  EXPECT_NE(s->last_error.find("nonexistent"), std::string::npos) << s->last_error;
  EXPECT_NE(s->state, PipelineState::kPlaying);
}

TEST(PipelineManager, BackoffDelaysAreObserved) {
  BackoffPolicy slow;
  slow.initial = 300ms;
  slow.max = 300ms;
  PipelineManager m(nullptr, slow);
  std::string err;
  ASSERT_EQ(m.add(def("bad", kFailing), false, &err), AddResult::kAdded);
  ASSERT_TRUE(run_until([&] { return m.get("bad")->state == PipelineState::kRestarting; }));
  auto s = m.get("bad");
  EXPECT_GT(s->next_restart_in, 0.0);
  EXPECT_LE(s->next_restart_in, 0.3);
  run_for(100);
  EXPECT_EQ(m.get("bad")->restarts, 0u);  // still waiting out the back-off
  ASSERT_TRUE(run_until([&] { return m.get("bad")->restarts >= 1; }));
}

TEST(PipelineManager, NeverIsNotRestarted) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("once", kFailing, RestartPolicy::kNever), false, &err), AddResult::kAdded);
  ASSERT_TRUE(run_until([&] { return m.get("once")->state == PipelineState::kFailed; }));
  run_for(300);
  auto s = m.get("once");
  EXPECT_EQ(s->state, PipelineState::kFailed);
  EXPECT_EQ(s->restarts, 0u);
  EXPECT_FALSE(s->last_error.empty());
}

TEST(PipelineManager, OnFailureRestartsErrorsButNotTheEndOfStream) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("ends", kEnding, RestartPolicy::kOnFailure), false, &err), AddResult::kAdded);
  ASSERT_EQ(m.add(def("fails", kFailing, RestartPolicy::kOnFailure), false, &err),
            AddResult::kAdded);
  ASSERT_TRUE(run_until([&] { return m.get("ends")->state == PipelineState::kStopped; }));
  ASSERT_TRUE(run_until([&] { return m.get("fails")->restarts >= 2; }));
  EXPECT_EQ(m.get("ends")->restarts, 0u);
  EXPECT_EQ(m.get("ends")->last_error, "end of stream");
}

TEST(PipelineManager, AlwaysRestartsAfterTheEndOfStream) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("loop", kEnding, RestartPolicy::kAlways), false, &err), AddResult::kAdded);
  ASSERT_TRUE(run_until([&] { return m.get("loop")->restarts >= 2; }));
}

TEST(PipelineManager, DuplicateNamesAreRefused) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("a", "videotestsrc is-live=true ! fakesink"), false, &err),
            AddResult::kAdded);
  EXPECT_EQ(m.add(def("a", "fakesrc ! fakesink"), false, &err), AddResult::kDuplicate);
  EXPECT_NE(err.find("already exists"), std::string::npos) << err;
  EXPECT_EQ(m.list().size(), 1u);
}

TEST(PipelineManager, UnparsableDescriptionsCarryGStreamersReason) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  EXPECT_EQ(m.add(def("x", "nosuchelement ! fakesink"), false, &err), AddResult::kInvalid);
  EXPECT_NE(err.find("nosuchelement"), std::string::npos) << err;
  EXPECT_TRUE(m.list().empty());
  EXPECT_EQ(m.add(def("y", "fakesrc ! ! fakesink"), false, &err), AddResult::kInvalid);
  EXPECT_NE(err.find("does not parse"), std::string::npos) << err;

  // From a definitions file the entry is kept, failed, with the reason, and
  // the others run.
  ASSERT_EQ(m.add(def("ok", "videotestsrc is-live=true ! fakesink"), true, &err),
            AddResult::kAdded);
  EXPECT_EQ(m.add(def("kept", "nosuchelement ! fakesink"), true, &err), AddResult::kInvalid);
  auto kept = m.get("kept");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->state, PipelineState::kFailed);
  EXPECT_NE(kept->last_error.find("nosuchelement"), std::string::npos);
  ASSERT_TRUE(run_until([&] { return m.get("ok")->state == PipelineState::kPlaying; }));
}

TEST(PipelineManager, ASingleElementDescriptionRuns) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("one", "videotestsrc"), false, &err), AddResult::kAdded) << err;
  // Unlinked source: it fails (not-linked) and is restarted; it must not crash.
  ASSERT_TRUE(run_until([&] { return m.get("one")->restarts >= 1; }));
}

TEST(PipelineManager, ReportsStoreElementCounters) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  ASSERT_EQ(m.add(def("writer",
                      "videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 "
                      "! relaisstoresink stream=mgr-test"),
                  false, &err),
            AddResult::kAdded)
      << err;
  ASSERT_EQ(m.add(def("reader", "relaisstoresrc stream=mgr-test ! fakesink"), false, &err),
            AddResult::kAdded)
      << err;
  auto counted = [&](const char* kind) {
    for (const auto& s : m.store_stats()) {
      if (s.kind == kind && s.frames >= 5) return true;
    }
    return false;
  };
  ASSERT_TRUE(run_until([&] { return counted("sink") && counted("src"); }));
  for (const auto& s : m.store_stats()) {
    EXPECT_EQ(s.stream, "mgr-test");
    EXPECT_GT(s.bytes, 0u);
    EXPECT_EQ(s.pipeline, s.kind == "sink" ? "writer" : "reader");
  }
}

TEST(PipelineManager, ClearStopsEverything) {
  PipelineManager m(nullptr, fast_backoff());
  std::string err;
  m.add(def("a", "videotestsrc is-live=true ! fakesink"), false, &err);
  m.add(def("b", kFailing), false, &err);
  run_for(100);
  m.clear();
  EXPECT_TRUE(m.list().empty());
  run_for(200);  // no timer of a removed pipeline may fire
}
