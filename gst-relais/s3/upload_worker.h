// Uploads one object from a byte stream without blocking the caller on the
// network: write() cuts the stream into parts and hands them to worker
// threads through a bounded queue (it blocks only while the queue is full);
// finish() sends the tail and waits until the object is complete.
//
// Small objects (less than one part) go up in a single PutObject; larger ones
// as a multipart upload, several parts at a time, the parts growing with the
// object (part_size_for()) so that 10,000 parts hold 5 TiB. The object is complete and
// byte-identical, or it does not exist: a failed or cancelled multipart upload
// is aborted.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "part_buffer.h"
#include "part_size.h"
#include "s3_client.h"

namespace relais::s3 {

struct UploadConfig {
  ClientConfig client;
  std::string bucket;
  std::string key;
  std::string content_type;
  guint64 part_size = kMinPartSize;  // of the first parts; grows with part_size_for()
  int parts_per_doubling = kPartsPerDoubling;
  gsize queue_depth = 2;  // full parts waiting for a worker thread
  guint threads = 4;      // parts uploaded at once, each thread with its own session
};

struct UploadStats {
  guint64 bytes_received = 0;  // by write()
  guint64 bytes_uploaded = 0;  // acknowledged by the server
  guint parts_uploaded = 0;
  guint retries = 0;
};

class UploadWorker {
 public:
  enum class Result { kOk, kFailed, kInterrupted };
  struct Callbacks {
    // Worker thread, once, on the failure that ends the upload (not on cancel).
    std::function<void(const S3Error&)> on_error;
    // Worker thread, before each retry.
    std::function<void(const S3Error&, guint attempt, guint delay_ms)> on_retry;
    // Worker thread, when an abort after a failure or cancel did not succeed.
    std::function<void(const std::string& upload_id, const S3Error&)> on_abort_failed;
    // Worker thread, when CreateMultipartUpload needed more than one attempt
    // (an earlier one may have created an upload) and the server would not
    // list its uploads to find it.
    std::function<void(const S3Error&)> on_orphan_unknown;
    // Streaming thread, when part `number` (`size` bytes) has been cut from
    // the stream, before it is queued.
    std::function<void(int number, guint64 size)> on_part;
  };

  // Starts the worker thread; fails (with `error` set) when the client
  // configuration is unusable.
  static std::unique_ptr<UploadWorker> start(const UploadConfig& config, Callbacks callbacks,
                                             std::string* error);
  // Cancels whatever is in flight, aborts an unfinished multipart upload and
  // joins the thread.
  ~UploadWorker();

  // Streaming side (one thread). write() keeps every byte it is given, even
  // when it returns kInterrupted (the full parts go out on a later call).
  Result write(const guint8* data, gsize size);
  // Sends the tail and waits until the object is complete (kOk), the upload
  // failed (kFailed, on_error was called) or interrupt() (kInterrupted; call
  // finish() again to keep waiting).
  Result finish();
  // Any thread: make a blocked write()/finish() return kInterrupted (flush,
  // state change); clear_interrupt() lets them block again.
  void interrupt();
  void clear_interrupt();

  bool failed() const;
  bool completed() const;  // the object exists, whole
  UploadStats stats() const;
  const UploadConfig& config() const { return config_; }

 private:
  struct Job {
    Bytes data;
    int number = 0;  // part number; 0: the last job adds no part
    bool last = false;
  };
  UploadWorker(const UploadConfig& config, Callbacks callbacks);
  void run();
  bool process(S3Client* client, const Job& job);
  bool ensure_upload_id(S3Client* client, std::string* upload_id);
  // Aborts the uploads of our key initiated in [from, to] (server clock)
  // other than `keep_id`: what retried CreateMultipartUpload attempts made.
  void abort_orphans(S3Client* client, const std::string& keep_id, gint64 from, gint64 to);
  // HEAD: the object exists with the size and ETag of `parts` (sorted).
  bool object_is_complete(S3Client* client, const std::vector<CompletedPart>& parts);
  void fail(const S3Error& error);
  // Waits until the queue has room for one more job. The streaming thread is
  // the only producer, so the room is still there for push().
  Result wait_for_room();
  // Queues a job (after wait_for_room()): never blocks and never drops it
  // unless the upload is over anyway (failed or stopping).
  void push(Job job);
  Result send_full_parts();
  guint64 part_size(int number) const;

  const UploadConfig config_;
  const Callbacks callbacks_;

  // Streaming side only.
  PartBuffer accumulator_;
  struct ChecksumFree {
    void operator()(GChecksum* c) const { g_checksum_free(c); }
  };
  // Of the whole object, which some S3-compatible servers give as its ETag.
  std::unique_ptr<GChecksum, ChecksumFree> md5_{g_checksum_new(G_CHECKSUM_MD5)};
  int next_number_ = 0;
  bool finish_sent_ = false;

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable cond_;
  std::deque<Job> queue_;
  std::string upload_id_;  // of the multipart upload, once created
  bool creating_ = false;  // a thread is creating the multipart upload
  std::vector<CompletedPart> parts_;
  std::string object_md5_;          // hex, set by finish()
  int in_flight_ = 0;               // jobs being processed
  std::vector<S3Client*> clients_;  // for cancelling; each owned by its thread
  guint running_ = 0;               // worker threads not yet finished
  bool stopping_ = false;           // destructor: cancel and leave
  bool interrupted_ = false;
  bool failed_ = false;
  bool reporting_ = false;  // a thread is reporting the failure
  bool completed_ = false;
  UploadStats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace relais::s3
