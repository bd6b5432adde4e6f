#include "s3_sink_settings.h"

#include "s3/s3_uri.h"

GST_DEBUG_CATEGORY_EXTERN(relais_s3_sink_debug);
#define GST_CAT_DEFAULT relais_s3_sink_debug

namespace relais {

namespace {

std::string env_or(const char* a, const char* b = nullptr) {
  const char* v = g_getenv(a);
  if ((!v || !*v) && b) v = g_getenv(b);
  return v ? v : "";
}

}  // namespace

std::string s3_target(const s3::UploadConfig& c) {
  return relais::s3::make_s3_uri(c.bucket, c.key);
}

std::string content_type_for_caps(GstCaps* caps) {
  if (!caps || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return "";
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  std::string name = gst_structure_get_name(s);
  if (name == "video/mpegts") return "video/MP2T";
  if (name == "video/quicktime") return "video/mp4";
  if (name == "video/x-matroska") return "video/x-matroska";
  if (name == "video/webm") return "video/webm";
  if (name == "application/x-hls") return "application/vnd.apple.mpegurl";
  if (name == "image/jpeg") return "image/jpeg";
  if (name == "image/png") return "image/png";
  return "";
}

s3::UploadConfig resolve_upload_config(const S3SinkSettings& s) {
  s3::UploadConfig c;
  c.bucket = s.bucket;
  c.key = s.key;
  c.content_type = s.content_type;
  c.part_size = s.part_size;
  c.client.region = !s.region.empty() ? s.region : env_or("AWS_REGION", "AWS_DEFAULT_REGION");
  if (c.client.region.empty()) c.client.region = DEFAULT_REGION;
  c.client.endpoint =
      !s.endpoint.empty() ? s.endpoint : env_or("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
  c.client.force_path_style = s.force_path_style;
  if (!s.access_key.empty() || !s.secret_key.empty()) {
    c.client.access_key = s.access_key;
    c.client.secret_key = s.secret_key;
    c.client.session_token = s.session_token;
  } else {
    // Key, secret and token come together from one place.
    c.client.access_key = env_or("AWS_ACCESS_KEY_ID");
    c.client.secret_key = env_or("AWS_SECRET_ACCESS_KEY");
    c.client.session_token =
        !s.session_token.empty() ? s.session_token : env_or("AWS_SESSION_TOKEN");
  }
  c.client.retry_attempts = s.retry_attempts;
  c.client.request_timeout_ms = s.request_timeout;
  return c;
}

void post_upload_error(GstElement* element, const s3::UploadConfig& c, const s3::S3Error& e) {
  std::string target = s3_target(c);
  std::string detail = e.describe() + "; endpoint " +
                       (c.client.endpoint.empty() ? "AWS" : c.client.endpoint) + ", region " +
                       c.client.region;
  std::string what = e.code.empty() ? e.message : e.code + ": " + e.message;
  while (!what.empty() && (what.back() == '.' || what.back() == ' ')) what.pop_back();
  if (e.kind == s3::ErrorKind::kRejected &&
      (e.status == 401 || e.status == 403 || e.code == "InvalidAccessKeyId" ||
       e.code == "SignatureDoesNotMatch" || e.code == "AccessDenied")) {
    GST_ELEMENT_ERROR(element, RESOURCE, NOT_AUTHORIZED,
                      ("S3 refused to write %s (bucket '%s', key '%s'): %s. Check access-key and "
                       "secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and "
                       "the bucket's permissions.",
                       target.c_str(), c.bucket.c_str(), c.key.c_str(), what.c_str()),
                      ("%s", detail.c_str()));
  } else if (e.kind == s3::ErrorKind::kRejected && e.code == "NoSuchBucket") {
    GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND,
                      ("S3 bucket '%s' does not exist, so key '%s' could not be written (%s).",
                       c.bucket.c_str(), c.key.c_str(), what.c_str()),
                      ("%s", detail.c_str()));
  } else if (e.kind == s3::ErrorKind::kRejected && e.code == "NoSuchUpload") {
    GST_ELEMENT_ERROR(element, RESOURCE, WRITE,
                      ("S3 no longer knows the multipart upload of %s (bucket '%s', key '%s'): "
                       "%s. It was aborted or expired (a lifecycle rule?) before it completed. "
                       "Nothing was written.",
                       target.c_str(), c.bucket.c_str(), c.key.c_str(), e.describe().c_str()),
                      ("%s", detail.c_str()));
  } else if (e.kind == s3::ErrorKind::kRejected && e.status == 404) {
    GST_ELEMENT_ERROR(element, RESOURCE, NOT_FOUND,
                      ("S3 answered 404 for %s (bucket '%s', key '%s'): %s. Nothing was written.",
                       target.c_str(), c.bucket.c_str(), c.key.c_str(), e.describe().c_str()),
                      ("%s", detail.c_str()));
  } else {
    GST_ELEMENT_ERROR(element, RESOURCE, WRITE,
                      ("Could not upload %s (bucket '%s', key '%s'): %s. Nothing was written.",
                       target.c_str(), c.bucket.c_str(), c.key.c_str(), e.describe().c_str()),
                      ("%s", detail.c_str()));
  }
}

}  // namespace relais
