// relaiss3sink's settings and what it derives from them: the upload
// configuration (with the AWS environment variables), the content type from
// caps, and the error a person sees when an upload fails.
#pragma once

#include <gst/gst.h>

#include <string>

#include "s3/upload_worker.h"

namespace relais {

using s3::kMaxPartSize;
using s3::kMinPartSize;
inline constexpr guint64 DEFAULT_PART_SIZE = kMinPartSize;
inline constexpr guint DEFAULT_RETRY_ATTEMPTS = 5;
inline constexpr gint64 DEFAULT_REQUEST_TIMEOUT = 15000;
inline constexpr gboolean DEFAULT_FORCE_PATH_STYLE = FALSE;
inline constexpr char DEFAULT_REGION[] = "us-east-1";

struct S3SinkSettings {
  std::string bucket;
  std::string key;
  std::string uri_error;  // set when uri/location did not parse
  std::string region;     // empty: AWS_REGION, AWS_DEFAULT_REGION, us-east-1
  std::string endpoint;   // empty: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS
  bool force_path_style = DEFAULT_FORCE_PATH_STYLE;
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  guint64 part_size = DEFAULT_PART_SIZE;
  guint retry_attempts = DEFAULT_RETRY_ATTEMPTS;
  gint64 request_timeout = DEFAULT_REQUEST_TIMEOUT;
  std::string content_type;  // empty: from caps, else binary/octet-stream
};

// The settings plus AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_REGION/AWS_DEFAULT_REGION and AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL.
s3::UploadConfig resolve_upload_config(const S3SinkSettings& settings);
// s3://bucket/key of an upload.
std::string s3_target(const s3::UploadConfig& config);
// Content type for well-known container caps; empty when unknown.
std::string content_type_for_caps(GstCaps* caps);
// Posts the GST_ELEMENT_ERROR for a failed upload: NOT_AUTHORIZED for refused
// credentials, NOT_FOUND for a missing bucket (NoSuchBucket) or another 404,
// WRITE otherwise (NoSuchUpload: the upload was aborted or expired); the
// message names bucket, key and the S3 error code.
void post_upload_error(GstElement* element, const s3::UploadConfig& config, const s3::S3Error& e);

}  // namespace relais
