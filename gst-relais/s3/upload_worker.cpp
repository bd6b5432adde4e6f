#include "upload_worker.h"

#include <algorithm>

namespace relais::s3 {

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
  w->accumulator_ = PartBuffer(config.part_size);
  guint threads = std::max(1u, config.threads);
  w->running_ = threads;
  for (guint i = 0; i < threads; ++i) w->threads_.emplace_back([self = w.get()] { self->run(); });
  return w;
}

UploadWorker::~UploadWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (S3Client* c : clients_) c->cancel();
  }
  cond_.notify_all();
  for (auto& t : threads_) t.join();
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

bool UploadWorker::completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

UploadStats UploadWorker::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

UploadWorker::Result UploadWorker::wait_for_room() {
  std::unique_lock lock(mutex_);
  cond_.wait(lock, [&] {
    return failed_ || interrupted_ || stopping_ || queue_.size() < config_.queue_depth;
  });
  if (failed_ || stopping_) return Result::kFailed;
  if (interrupted_) return Result::kInterrupted;
  return Result::kOk;
}

void UploadWorker::push(Job job) {
  std::lock_guard lock(mutex_);
  if (failed_ || stopping_) return;
  queue_.push_back(std::move(job));
  cond_.notify_all();
}

guint64 UploadWorker::part_size(int number) const {
  return part_size_for(number, config_.part_size, config_.parts_per_doubling);
}

UploadWorker::Result UploadWorker::send_full_parts() {
  while (accumulator_.size() >= part_size(next_number_ + 1)) {
    // Wait for room before cutting the part: an interrupted wait leaves the
    // bytes in place, and once cut, the part is always queued (an interrupt
    // after this point must not drop it while the numbering moves on).
    Result r = wait_for_room();
    if (r != Result::kOk) return r;
    int number = ++next_number_;
    Bytes part = accumulator_.take(part_size(number), part_size(number + 1));
    if (callbacks_.on_part) callbacks_.on_part(number, part.size());
    push(Job{part, number, false});
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
  accumulator_.append(data, size);
  g_checksum_update(md5_.get(), data, static_cast<gssize>(size));
  return send_full_parts();
}

UploadWorker::Result UploadWorker::finish() {
  if (!finish_sent_) {
    Result r = send_full_parts();
    if (r == Result::kOk) r = wait_for_room();
    if (r != Result::kOk) return r;
    Bytes tail = accumulator_.take(accumulator_.size(), 0);
    {
      std::lock_guard lock(mutex_);
      object_md5_ = g_checksum_get_string(md5_.get());
    }
    // An empty tail adds no part, unless it is the whole (empty) object.
    int number = tail.size() > 0 || next_number_ == 0 ? next_number_ + 1 : 0;
    if (number) next_number_ = number;
    finish_sent_ = true;
    push(Job{tail, number, true});
  }
  std::unique_lock lock(mutex_);
  cond_.wait(lock, [&] { return completed_ || failed_ || stopping_ || interrupted_; });
  if (completed_) return Result::kOk;
  if (failed_ || stopping_) return Result::kFailed;
  return Result::kInterrupted;
}

void UploadWorker::fail(const S3Error& error) {
  {
    std::lock_guard lock(mutex_);
    if (failed_ || stopping_ || reporting_) return;  // the first failure is the one reported
    reporting_ = true;
  }
  if (callbacks_.on_error) callbacks_.on_error(error);
  std::lock_guard lock(mutex_);
  failed_ = true;
  queue_.clear();
  for (S3Client* c : clients_) c->cancel();  // other parts in flight stop now
  cond_.notify_all();
}

bool UploadWorker::ensure_upload_id(S3Client* client, std::string* upload_id) {
  {
    std::unique_lock lock(mutex_);
    cond_.wait(lock, [&] { return !creating_ || failed_ || stopping_; });
    if (failed_ || stopping_) return false;
    if (!upload_id_.empty()) {
      *upload_id = upload_id_;
      return true;
    }
    creating_ = true;
  }
  S3Error error;
  std::string id;
  const gint64 started = g_get_monotonic_time();
  bool ok = client->create_multipart_upload(config_.bucket, config_.key, config_.content_type, &id,
                                            &error);
  const guint attempts = client->last_attempts();
  const gint64 server_time = client->last_server_time();
  // On failure, fail() marks the upload failed before creating_ is cleared,
  // so no other thread starts a second multipart upload.
  if (!ok && error.kind != ErrorKind::kCancelled) fail(error);
  {
    std::lock_guard lock(mutex_);
    creating_ = false;
    if (ok) upload_id_ = id;
    cond_.notify_all();
  }
  if (!ok) return false;
  *upload_id = id;
  // An earlier attempt may have created an upload whose answer was lost.
  if (attempts > 1) {
    gint64 elapsed_s = (g_get_monotonic_time() - started) / G_USEC_PER_SEC + 1;
    abort_orphans(client, id, server_time - elapsed_s - 1, server_time + 1);
  }
  return true;
}

void UploadWorker::abort_orphans(S3Client* client, const std::string& keep_id, gint64 from,
                                 gint64 to) {
  std::string xml;
  S3Error error;
  if (!client->list_multipart_uploads(config_.bucket, config_.key, &xml, &error)) {
    if (error.kind != ErrorKind::kCancelled && callbacks_.on_orphan_unknown)
      callbacks_.on_orphan_unknown(error);
    return;
  }
  for (const std::string& orphan : orphan_upload_ids(xml, config_.key, keep_id, from, to)) {
    if (!client->abort_multipart_upload(config_.bucket, config_.key, orphan, &error) &&
        error.kind != ErrorKind::kCancelled && callbacks_.on_abort_failed)
      callbacks_.on_abort_failed(orphan, error);
  }
}

bool UploadWorker::process(S3Client* client, const Job& job) {
  S3Error error;
  if (job.last && job.number == 1) {  // the whole object is one part: one PUT
    if (!client->put_object(config_.bucket, config_.key, job.data, config_.content_type, &error)) {
      if (error.kind != ErrorKind::kCancelled) fail(error);
      return false;
    }
    std::lock_guard lock(mutex_);
    stats_.bytes_uploaded += job.data.size();
    return true;
  }
  std::string upload_id;
  if (!ensure_upload_id(client, &upload_id)) return false;
  if (job.number > 0) {
    if (job.number > kMaxParts) {
      error.kind = ErrorKind::kRejected;
      error.operation = "UploadPart";
      error.message = "the object is larger than S3 allows (10000 parts, 5 TiB)";
      fail(error);
      return false;
    }
    std::string etag;
    if (!client->upload_part(config_.bucket, config_.key, upload_id, job.number, job.data, &etag,
                             &error)) {
      if (error.kind != ErrorKind::kCancelled) fail(error);
      return false;
    }
    std::lock_guard lock(mutex_);
    parts_.push_back({job.number, etag});
    stats_.bytes_uploaded += job.data.size();
    stats_.parts_uploaded++;
  }
  if (!job.last) return true;
  // Every earlier part was taken from the queue before this job: wait for
  // those still in flight, then assemble.
  std::vector<CompletedPart> parts;
  {
    std::unique_lock lock(mutex_);
    cond_.wait(lock, [&] { return in_flight_ == 1 || failed_ || stopping_; });
    if (failed_ || stopping_) return false;
    parts = parts_;
  }
  std::sort(parts.begin(), parts.end(),
            [](const CompletedPart& a, const CompletedPart& b) { return a.number < b.number; });
  if (!client->complete_multipart_upload(config_.bucket, config_.key, upload_id, parts, &error)) {
    if (error.kind == ErrorKind::kCancelled) return false;
    // A retry after a lost answer: S3 completed the upload the first time and
    // no longer knows it (AWS answers 404 NoSuchUpload, s3rver 500). The
    // object is ours if it has our size and multipart ETag.
    if (object_is_complete(client, parts)) return true;
    fail(error);
    return false;
  }
  return true;
}

bool UploadWorker::object_is_complete(S3Client* client, const std::vector<CompletedPart>& parts) {
  guint64 expected_size;
  std::string object_etag;
  {
    std::lock_guard lock(mutex_);
    expected_size = stats_.bytes_uploaded;
    object_etag = "\"" + object_md5_ + "\"";
  }
  guint64 size = 0;
  std::string etag;
  S3Error error;
  if (!client->head_object(config_.bucket, config_.key, &size, &etag, &error)) return false;
  // AWS (and most S3-compatible servers) give the MD5 of the parts' MD5s;
  // some (s3rver) the MD5 of the whole object.
  return size == expected_size && (etag == multipart_etag(parts) || etag == object_etag);
}

void UploadWorker::run() {
  std::string err;
  // start() checked the same configuration, so this does not fail in practice.
  std::unique_ptr<S3Client> client = S3Client::create(config_.client, &err);
  if (!client) {
    S3Error error;
    error.kind = ErrorKind::kRejected;
    error.operation = "Configuration";
    error.message = err;
    fail(error);
    std::lock_guard lock(mutex_);
    --running_;
    cond_.notify_all();
    return;
  }
  client->on_retry = [this](const S3Error& e, guint attempt, guint delay) {
    {
      std::lock_guard lock(mutex_);
      stats_.retries++;
    }
    if (callbacks_.on_retry) callbacks_.on_retry(e, attempt, delay);
  };
  {
    std::lock_guard lock(mutex_);
    clients_.push_back(client.get());
    if (stopping_ || failed_) client->cancel();
  }
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      cond_.wait(lock, [&] { return stopping_ || failed_ || completed_ || !queue_.empty(); });
      if (stopping_ || failed_ || completed_) break;
      job = std::move(queue_.front());
      queue_.pop_front();
      in_flight_++;
      cond_.notify_all();  // room in the queue
    }
    bool ok = process(client.get(), job);
    std::lock_guard lock(mutex_);
    in_flight_--;
    if (ok && job.last) completed_ = true;
    cond_.notify_all();
    if (!ok) break;
  }
  // The last thread out leaves nothing behind: an unfinished multipart upload
  // is aborted.
  std::string abort_id;
  {
    std::lock_guard lock(mutex_);
    clients_.erase(std::find(clients_.begin(), clients_.end(), client.get()));
    if (--running_ == 0 && !completed_) abort_id = upload_id_;
  }
  if (!abort_id.empty()) {
    client->reset_cancel();
    client->on_retry = nullptr;
    // Stopping must not wait out a full retry schedule on a dead server.
    client->limit_attempts(std::min(config_.client.retry_attempts, 2u));
    S3Error error;
    if (!client->abort_multipart_upload(config_.bucket, config_.key, abort_id, &error) &&
        callbacks_.on_abort_failed)
      callbacks_.on_abort_failed(abort_id, error);
  }
  std::lock_guard lock(mutex_);
  cond_.notify_all();
}

}  // namespace relais::s3
