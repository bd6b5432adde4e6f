// memory:// write + N readers, against proxysink/proxysrc (GStreamer's own
// in-process hand-over between pipelines) fanned out by a tee.
#include <gst/app/gstappsrc.h>

#include "bench_util.h"
#include "store_bench.h"

namespace relais::bench {
namespace {

struct Topology {
  std::unique_ptr<Pipeline> writer;
  std::vector<std::unique_ptr<Pipeline>> readers;
};

std::string reader_sink() {
  return " ! fakesink name=sink sync=false async=false";
}

// appsrc ! relaisstoresink; N x relaisstoresrc start=live ! fakesink.
bool build_store(const std::string& stream, int readers, uint64_t frames, Topology* t,
                 std::string* error) {
  for (int i = 0; i < readers; ++i) {
    auto r = Pipeline::launch("relaisstoresrc store=memory:// stream=" + stream +
                                  " start=live timestamps=original" + reader_sink(),
                              error);
    if (!r) return false;
    t->readers.push_back(std::move(r));
  }
  // Retention above the frame count: no reader is ever lapped.
  t->writer = Pipeline::launch(
      bench_appsrc() + " ! relaisstoresink store=memory:// stream=" + stream +
          " sync=false max-age=0 max-bytes=0 max-frames=" + std::to_string(frames + 1),
      error);
  return t->writer != nullptr;
}

// appsrc ! tee ! N x (queue ! proxysink); N x proxysrc ! fakesink.
bool build_proxy(int readers, Topology* t, std::string* error) {
  std::string desc = bench_appsrc() + " ! tee name=t";
  for (int i = 0; i < readers; ++i)
    desc += " t. ! queue ! proxysink name=proxy" + std::to_string(i);
  t->writer = Pipeline::launch(desc, error);
  if (!t->writer) return false;
  for (int i = 0; i < readers; ++i) {
    auto r = Pipeline::launch("proxysrc name=src" + reader_sink(), error);
    if (!r) return false;
    ElementRef proxysink = t->writer->element(("proxy" + std::to_string(i)).c_str());
    g_object_set(r->element("src").get(), "proxysink", proxysink.get(), nullptr);
    t->readers.push_back(std::move(r));
  }
  return true;
}

// Readers first, then the writer; times from the first push until every
// reader has received every frame. Returns frames/s per reader.
std::optional<double> measure(Topology& t, const Payload& payload, uint64_t frames,
                              std::string* error) {
  BufferCounter counter(frames);
  std::vector<Pipeline*> all;
  for (auto& r : t.readers) {
    ElementRef sink = r->element("sink");
    PadRef pad = PadRef::adopt(gst_element_get_static_pad(sink.get(), "sink"));
    counter.attach(pad.get());
    if (!r->play(error)) return std::nullopt;
    all.push_back(r.get());
  }
  if (!t.writer->play(error)) return std::nullopt;
  all.push_back(t.writer.get());
  ElementRef src = t.writer->element("src");
  auto start = Clock::now();
  if (!push_frames(GST_APP_SRC(src.get()), payload, frames, error)) return std::nullopt;
  if (!wait_delivered(counter, all, error)) return std::nullopt;
  return static_cast<double>(frames) / seconds_since(start);
}

}  // namespace

bool run_memory_benches(const std::vector<StoreBenchCase>& cases, std::string* error) {
  for (const auto& c : cases) {
    Payload payload(c.size, c.label);
    for (int readers : kReaderCounts) {
      uint64_t frames = readers == 1 ? c.memory_frames_1 : c.memory_frames_8;
      std::string stream = "bench-" + c.label + "-" + std::to_string(readers);
      for (auto& ch : stream) ch = g_ascii_tolower(ch);
      auto relais = [&]() -> std::optional<double> {
        Topology t;
        if (!build_store(stream, readers, frames, &t, error)) return std::nullopt;
        return measure(t, payload, frames, error);
      };
      auto anchor = [&]() -> std::optional<double> {
        Topology t;
        if (!build_proxy(readers, &t, error)) return std::nullopt;
        return measure(t, payload, frames, error);
      };
      double relais_fps = 0, anchor_fps = 0;
      if (!best_of(relais, anchor, &relais_fps, &anchor_fps)) return false;
      std::string metric = "store_memory_write_read" + std::to_string(readers) + "_" + c.label;
      print_result(metric, "frames_per_s", relais_fps, "proxysink_proxysrc", anchor_fps);
      double mb = static_cast<double>(c.size) / 1e6;
      print_result(metric + "_MBps", "MB_per_s_per_reader", relais_fps * mb, "proxysink_proxysrc",
                   anchor_fps * mb);
    }
  }
  return true;
}

}  // namespace relais::bench
