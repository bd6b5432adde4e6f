#include "upload_worker.h"

namespace relais::s3 {

namespace {
// S3 allows 10,000 parts per upload.
constexpr int kMaxParts = 10000;
}  // namespace

UploadWorker::UploadWorker(const UploadConfig& config, Callbacks callbacks)
    : config_(config), callbacks_(std::move(callbacks)) {}

std::unique_ptr<UploadWorker> UploadWorker::start(const UploadConfig& config, Callbacks callbacks,
                                                  std::string* error) {
  if (config.bucket.empty() || config.key.empty()) {
    *error = "No object to write: set uri or location (s3://bucket/key), or bucket and key";
    return nullptr;
  }
  // Check the client configuration here, where the caller can report it; the
  // worker thread builds its own client (libsoup sessions stay on one thread).
  if (!S3Client::create(config.client, error)) return nullptr;
  std::unique_ptr<UploadWorker> w(new UploadWorker(config, std::move(callbacks)));
  w->accumulator_ = g_byte_array_sized_new(static_cast<guint>(config.part_size));
  UploadWorker* self = w.get();
  w->thread_ = std::thread([self] {
    std::string err;
    self->run(S3Client::create(self->config_.client, &err));
  });
  return w;
}

UploadWorker::~UploadWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (client_) client_->cancel();
  }
  cond_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (accumulator_) g_byte_array_unref(accumulator_);
}

void UploadWorker::interrupt() {
  {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
  }
  cond_.notify_all();
}

void UploadWorker::clear_interrupt() {
  std::lock_guard lock(mutex_);
  interrupted_ = false;
}

bool UploadWorker::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

UploadStats UploadWorker::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void UploadWorker::take_part(Bytes* out) {
  const gsize part = config_.part_size;
  if (accumulator_->len <= part) {
    *out = Bytes::adopt(g_byte_array_free_to_bytes(accumulator_));
    accumulator_ = g_byte_array_sized_new(static_cast<guint>(part));
    return;
  }
  *out = Bytes::copy_of(accumulator_->data, part);
  g_byte_array_remove_range(accumulator_, 0, static_cast<guint>(part));
}

UploadWorker::Result UploadWorker::enqueue(Job job) {
  std::unique_lock lock(mutex_);
  cond_.wait(lock, [&] {
    return failed_ || interrupted_ || stopping_ || queue_.size() < config_.queue_depth;
  });
  if (failed_ || stopping_) return Result::kFailed;
  if (interrupted_) return Result::kInterrupted;
  queue_.push_back(std::move(job));
  cond_.notify_all();
  return Result::kOk;
}

UploadWorker::Result UploadWorker::send_full_parts() {
  while (accumulator_->len >= config_.part_size) {
    {
      // Wait for room first, so an interrupted wait leaves the bytes in place.
      std::unique_lock lock(mutex_);
      cond_.wait(lock, [&] {
        return failed_ || interrupted_ || stopping_ || queue_.size() < config_.queue_depth;
      });
      if (failed_ || stopping_) return Result::kFailed;
      if (interrupted_) return Result::kInterrupted;
    }
    Bytes part;
    take_part(&part);
    // Only this thread adds jobs, so the room found above is still there.
    Result r = enqueue(Job{part, false});
    if (r != Result::kOk) return r;
  }
  return Result::kOk;
}

UploadWorker::Result UploadWorker::write(const guint8* data, gsize size) {
  if (finish_sent_ || failed()) return Result::kFailed;
  {
    std::lock_guard lock(mutex_);
    stats_.bytes_received += size;
  }
  // Every byte is kept, even when the wait for room below is interrupted.
  g_byte_array_append(accumulator_, data, static_cast<guint>(size));
  return send_full_parts();
}

UploadWorker::Result UploadWorker::finish() {
  if (!finish_sent_) {
    Result r = send_full_parts();
    if (r != Result::kOk) return r;
    Bytes tail;
    take_part(&tail);
    r = enqueue(Job{tail, true});
    if (r != Result::kOk) {
      g_byte_array_prepend(accumulator_, tail.data(), static_cast<guint>(tail.size()));
      return r;
    }
    finish_sent_ = true;
  }
  std::unique_lock lock(mutex_);
  cond_.wait(lock, [&] { return completed_ || failed_ || stopping_ || interrupted_; });
  if (completed_) return Result::kOk;
  if (failed_ || stopping_) return Result::kFailed;
  return Result::kInterrupted;
}

void UploadWorker::fail(const S3Error& error) {
  if (callbacks_.on_error) callbacks_.on_error(error);
  std::lock_guard lock(mutex_);
  failed_ = true;
  queue_.clear();
  cond_.notify_all();
}

bool UploadWorker::process(S3Client* client, Job& job) {
  S3Error error;
  const bool single_put = upload_id_.empty() && job.last;
  if (single_put) {
    if (!client->put_object(config_.bucket, config_.key, job.data, config_.content_type, &error)) {
      if (error.kind != ErrorKind::kCancelled) fail(error);
      return false;
    }
    std::lock_guard lock(mutex_);
    stats_.bytes_uploaded += job.data.size();
    return true;
  }
  if (upload_id_.empty() &&
      !client->create_multipart_upload(config_.bucket, config_.key, config_.content_type,
                                       &upload_id_, &error)) {
    if (error.kind != ErrorKind::kCancelled) fail(error);
    return false;
  }
  // An empty tail adds no part (S3 rejects an empty part after others).
  if (job.data.size() > 0 || parts_.empty()) {
    int number = static_cast<int>(parts_.size()) + 1;
    if (number > kMaxParts) {
      error.kind = ErrorKind::kRejected;
      error.operation = "UploadPart";
      error.message = "the object needs more than 10000 parts; raise part-size";
      fail(error);
      return false;
    }
    std::string etag;
    if (!client->upload_part(config_.bucket, config_.key, upload_id_, number, job.data, &etag,
                             &error)) {
      if (error.kind != ErrorKind::kCancelled) fail(error);
      return false;
    }
    parts_.push_back({number, etag});
    std::lock_guard lock(mutex_);
    stats_.bytes_uploaded += job.data.size();
    stats_.parts_uploaded++;
  }
  if (job.last) {
    if (!client->complete_multipart_upload(config_.bucket, config_.key, upload_id_, parts_,
                                           &error)) {
      if (error.kind != ErrorKind::kCancelled) fail(error);
      return false;
    }
    upload_id_.clear();
  }
  return true;
}

void UploadWorker::run(std::unique_ptr<S3Client> client) {
  if (!client) return;  // start() checked the same configuration
  client->on_retry = [this](const S3Error& e, guint attempt, guint delay) {
    {
      std::lock_guard lock(mutex_);
      stats_.retries++;
    }
    if (callbacks_.on_retry) callbacks_.on_retry(e, attempt, delay);
  };
  {
    std::lock_guard lock(mutex_);
    client_ = client.get();
    if (stopping_) client->cancel();
  }
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      cond_.wait(lock, [&] { return stopping_ || failed_ || !queue_.empty(); });
      if (stopping_ || failed_) break;
      job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      cond_.notify_all();  // room in the queue
    }
    bool ok = process(client.get(), job);
    std::lock_guard lock(mutex_);
    busy_ = false;
    if (ok && job.last) {
      completed_ = true;
      cond_.notify_all();
      break;
    }
    if (!ok) break;
  }
  // Leave nothing behind: an unfinished multipart upload is aborted.
  if (!upload_id_.empty()) {
    {
      std::lock_guard lock(mutex_);
      client_ = nullptr;
    }
    client->reset_cancel();
    client->on_retry = nullptr;
    // Stopping must not wait out a full retry schedule on a dead server.
    client->limit_attempts(std::min(config_.client.retry_attempts, 2u));
    S3Error error;
    if (!client->abort_multipart_upload(config_.bucket, config_.key, upload_id_, &error) &&
        callbacks_.on_abort_failed)
      callbacks_.on_abort_failed(upload_id_, error);
    upload_id_.clear();
  }
  std::lock_guard lock(mutex_);
  client_ = nullptr;
  cond_.notify_all();
}

}  // namespace relais::s3
