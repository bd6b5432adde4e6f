#include "whep_service.h"

#include <gst/gst.h>

#include <map>

#include "main_context.h"
#include "redirect_token.h"
#include "registry.h"
#include "sdp_offer.h"
#include "stream_egress.h"
#include "viewer_session.h"
#include "watch_page.h"
#include "whep_routes.h"

GST_DEBUG_CATEGORY_STATIC(relais_whep_debug);
#define GST_CAT_DEFAULT relais_whep_debug

namespace relais::webrtc {
namespace {

std::string random_token() {
  gchar* uuid = g_uuid_string_random();
  std::string out;
  for (const char* p = uuid; *p; p++)
    if (*p != '-') out += *p;
  g_free(uuid);
  return out;
}

HttpResponse retry_later(int status, const std::string& message, int seconds) {
  HttpResponse r = json_error(status, message);
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

enum class Outcome { kDeleted, kFailed };

}  // namespace

class WhepService::Impl : public std::enable_shared_from_this<Impl> {
 public:
  struct Entry {
    std::shared_ptr<ViewerSession> session;
    std::string etag;
    Responder pending;  // until the answer (or an error) is sent
    GSourcePtr negotiation_timer;
  };

  Impl(std::string store_uri, std::vector<IceServer> ice, std::string token, size_t max_body,
       WhepOptions options)
      : store_uri_(store_uri.empty() ? store::default_store_uri() : std::move(store_uri)),
        options_(std::move(options)),
        ctx_(g_main_context_ref_thread_default()) {
    routes_.viewer_token = std::move(token);
    routes_.max_body_bytes = max_body;
    routes_.ice_servers = std::move(ice);
  }
  ~Impl() {
    reaper_.reset();
    std::vector<Responder> pending;
    for (auto& [id, e] : entries_)
      if (e.pending) pending.push_back(std::move(e.pending));
    entries_.clear();
    for (auto& respond : pending) respond(retry_later(503, "the server is shutting down", 5));
    egresses_.clear();
    g_main_context_unref(ctx_);
  }

  void start_reaper() {
    reaper_ = start_interval(ctx_, options_.reap_interval_ms, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->reap_expired();
    });
  }

  void handle(const HttpRequest& request, Responder respond) {
    RouteResult route = route_whep_request(request, routes_);
    switch (route.action) {
      case WhepAction::kRespond:
        respond(std::move(route.response));
        return;
      case WhepAction::kOffer:
        offer(route.stream, request.body, std::move(respond));
        return;
      case WhepAction::kTrickle:
        respond(trickle(route.stream, route.session, request));
        return;
      case WhepAction::kDelete:
        respond(remove_by_request(route.stream, route.session));
        return;
    }
  }

  void offer(const std::string& stream, const std::string& sdp, Responder respond) {
    const bool at_budget = options_.max_viewers > 0 && entries_.size() >= options_.max_viewers;
    if (at_budget || entries_.size() >= options_.max_sessions) {
      std::string other = options_.redirect_when_full ? options_.redirect_when_full(stream) : "";
      if (!other.empty()) {
        HttpResponse r = json_error(307, "this node is full; use " + other);
        std::string location = other + kWhepPrefix + stream;
        if (!routes_.viewer_token.empty()) {
          // The target node shares the viewer token; the browser will not resend it.
          location +=
              std::string("?") + kRedirectTokenParam + "=" +
              make_redirect_token(routes_.viewer_token, stream,
                                  g_get_real_time() / G_USEC_PER_SEC + kRedirectTokenSeconds);
        }
        r.headers.emplace_back("Location", location);
        respond(std::move(r));
        return;
      }
      const size_t limit = at_budget ? options_.max_viewers : options_.max_sessions;
      respond(retry_later(503,
                          "this server has reached its limit of " + std::to_string(limit) +
                              " viewer sessions" +
                              (options_.redirect_when_full ? " and no other node has room" : ""),
                          5));
      return;
    }
    store::StreamInfo info;
    int status = find_stream(stream, &info, &respond);
    if (status != 0) return;
    OfferResult parsed = parse_offer(sdp);
    if (!parsed.ok) {
      respond(json_error(400, "malformed offer: " + parsed.error));
      return;
    }
    StreamFormat format = stream_format_from_caps(info.caps);
    auto egress_it = egresses_.find(stream);
    std::optional<VideoCodec> raw_encode;
    if (egress_it != egresses_.end()) raw_encode = egress_it->second->raw_encode();
    std::string why;
    std::optional<CodecChoice> choice = choose_codec(parsed.summary, format, raw_encode, &why);
    if (choice && egress_it != egresses_.end() && egress_it->second->codec() != choice->codec) {
      choice.reset();
      why = "the stream changed its codec; try again in a moment";
    }
    if (!choice) {
      respond(json_error(400, "no usable video codec in the offer: " + why));
      return;
    }
    std::string error;
    if (egress_it == egresses_.end()) {
      std::unique_ptr<StreamEgress> egress = StreamEgress::create(
          store_uri_, stream, format, *choice, ctx_, egress_callbacks(stream), &error);
      if (!egress) {
        respond(json_error(500, "could not start the stream's egress: " + error));
        return;
      }
      egress_it = egresses_.emplace(stream, std::move(egress)).first;
    }
    std::string id = random_token();
    ViewerSession::Settings settings{routes_.ice_servers, options_.ice_gather_timeout_ms,
                                     options_.ice, options_.nack};
    auto session = std::make_shared<ViewerSession>(id, stream, sdp, parsed.summary.video_mline,
                                                   *choice, ctx_, settings, session_events(id));
    Entry& entry = entries_[id];
    entry.session = session;
    entry.etag = "\"" + random_token().substr(0, 16) + "\"";
    entry.pending = std::move(respond);
    entry.negotiation_timer =
        start_timer(ctx_, options_.negotiation_timeout_ms, [weak = weak_from_this(), id] {
          if (auto self = weak.lock())
            self->negotiation_failed(id, 503, "the stream sent no media in time; try again");
        });
    sessions_created_++;
    GST_INFO("session %s for '%s': %s pt %d", id.c_str(), stream.c_str(), codec_name(choice->codec),
             choice->payload_type);
    if (!session->start(egress_it->second.get(), &error))
      negotiation_failed(id, 500, "could not add the viewer: " + error);
  }

  // 0 if the stream has media; else answers and returns the status.
  int find_stream(const std::string& stream, store::StreamInfo* out, Responder* respond) {
    if (!store_) {
      store::Status st = store::open_store(store_uri_, &store_);
      if (!st.is_ok()) {
        store_.reset();
        (*respond)(retry_later(503, "the frame store is unreachable: " + st.message(), 5));
        return 503;
      }
    }
    std::vector<store::StreamInfo> streams;
    store::Status st = store_->list_streams(&streams);
    if (!st.is_ok()) {
      (*respond)(retry_later(503, "the frame store is unreachable: " + st.message(), 5));
      return 503;
    }
    for (auto& s : streams) {
      if (s.name != stream) continue;
      if (s.caps.empty() || s.frames_retained == 0) {
        (*respond)(retry_later(409, "stream '" + stream + "' has no media yet", 2));
        return 409;
      }
      *out = std::move(s);
      return 0;
    }
    (*respond)(json_error(404, "no stream named '" + stream + "'"));
    return 404;
  }

  ViewerSession::Events session_events(const std::string& id) {
    ViewerSession::Events ev;
    std::weak_ptr<Impl> weak = weak_from_this();
    ev.on_negotiated = [weak, id](int status, const std::string& text) {
      auto self = weak.lock();
      if (!self) return;
      if (status == 201)
        self->answered(id, text);
      else
        self->negotiation_failed(id, status, text);
    };
    ev.on_connected = [weak, id] {
      if (auto self = weak.lock()) self->connected(id);
    };
    ev.on_failed = [weak, id](const std::string& reason) {
      if (auto self = weak.lock()) self->remove(id, Outcome::kFailed, reason);
    };
    return ev;
  }

  StreamEgress::Callbacks egress_callbacks(const std::string& stream) {
    StreamEgress::Callbacks cb;
    std::weak_ptr<Impl> weak = weak_from_this();
    cb.on_failed = [weak, stream](const std::string& reason) {
      if (auto self = weak.lock()) self->stream_failed(stream, reason);
    };
    cb.on_viewer_failed = [weak](GstElement* sink, const std::string& reason) {
      auto self = weak.lock();
      if (!self) return;
      for (auto& [id, entry] : self->entries_)
        if (entry.session->webrtcbin() == sink) {
          std::string found = id;
          self->remove(found, Outcome::kFailed, reason);
          return;
        }
    };
    return cb;
  }

  void answered(const std::string& id, const std::string& sdp) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Entry& e = it->second;
    e.negotiation_timer.reset();
    Responder respond = std::move(e.pending);
    e.pending = nullptr;
    if (respond)
      respond(created_response(sdp, session_location(e.session->stream(), id), e.etag,
                               routes_.ice_servers));
  }

  // Packets flow to a viewer once it is connected, starting at the newest keyframe.
  void connected(const std::string& id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    auto eg = egresses_.find(it->second.session->stream());
    if (eg != egresses_.end() && it->second.session->branch())
      eg->second->go_live(it->second.session->branch());
    GST_INFO("session %s connected", id.c_str());
  }

  void negotiation_failed(const std::string& id, int status, const std::string& message) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Responder respond = std::move(it->second.pending);
    remove(id, Outcome::kFailed, message);
    if (respond)
      respond(status == 503 ? retry_later(503, message, 2) : json_error(status, message));
  }

  void stream_failed(const std::string& stream, const std::string& reason) {
    std::vector<std::string> ids;
    for (auto& [id, e] : entries_)
      if (e.session->stream() == stream) ids.push_back(id);
    for (const auto& id : ids)
      negotiation_failed(id, 502, "the stream's pipeline failed: " + reason);
    egresses_.erase(stream);
  }

  void remove(const std::string& id, Outcome outcome, const std::string& reason) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    std::shared_ptr<ViewerSession> session = it->second.session;
    Responder pending = std::move(it->second.pending);
    entries_.erase(it);
    auto eg = egresses_.find(session->stream());
    session->close(eg == egresses_.end() ? nullptr : eg->second.get());
    bytes_ended_[session->stream()] += session->bytes_sent();
    sessions_ended_++;
    if (outcome == Outcome::kFailed) sessions_failed_++;
    GST_INFO("session %s ended: %s", id.c_str(), reason.c_str());
    if (eg != egresses_.end() && eg->second->branch_count() == 0) egresses_.erase(eg);
    if (pending) pending(json_error(502, reason));
  }

  HttpResponse trickle(const std::string& stream, const std::string& id, const HttpRequest& req) {
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.session->stream() != stream || it->second.pending)
      return json_error(404, "no such WHEP session");
    std::string if_match = req.header("if-match");
    if (!if_match.empty() && if_match != "*" && if_match != it->second.etag)
      return json_error(412, "the session's ETag does not match If-Match");
    TrickleFragment fragment = parse_trickle_fragment(req.body);
    if (!fragment.ok) return json_error(400, "malformed trickle-ICE fragment: " + fragment.error);
    std::string error;
    if (!it->second.session->add_remote_candidates(fragment, &error)) return json_error(422, error);
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    add_cors_headers(&r);
    return r;
  }

  HttpResponse remove_by_request(const std::string& stream, const std::string& id) {
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.session->stream() != stream)
      return json_error(404, "no such WHEP session");
    remove(id, Outcome::kDeleted, "deleted by the viewer");
    HttpResponse r;
    r.status = 200;
    r.content_type.clear();
    add_cors_headers(&r);
    return r;
  }

  size_t reap_expired() {
    int64_t now = g_get_monotonic_time();
    std::vector<std::pair<std::string, std::string>> expired;
    for (auto& [id, e] : entries_) {
      const ViewerSession& s = *e.session;
      if (s.state() == ViewerSession::State::kAnswered &&
          now - s.created_us() > int64_t(options_.connect_timeout_ms) * 1000)
        expired.emplace_back(id, "the viewer never connected");
      else if (s.state() == ViewerSession::State::kConnected &&
               now - s.last_seen_us() > int64_t(options_.liveness_timeout_ms) * 1000)
        expired.emplace_back(id, "the viewer stopped answering");
    }
    for (const auto& [id, reason] : expired) remove(id, Outcome::kFailed, reason);
    return expired.size();
  }

  std::string metrics() const {
    std::map<std::string, size_t> viewers;
    std::map<std::string, uint64_t> bytes = bytes_ended_;
    for (const auto& [stream, egress] : egresses_) viewers[stream] = 0;
    for (const auto& [id, e] : entries_) {
      viewers[e.session->stream()]++;
      bytes[e.session->stream()] += e.session->bytes_sent();
    }
    std::string out;
    out +=
        "# HELP relais_whep_viewers WHEP viewer sessions per stream (connecting or connected).\n";
    out += "# TYPE relais_whep_viewers gauge\n";
    for (const auto& [stream, n] : viewers)
      out += "relais_whep_viewers{stream=\"" + stream + "\"} " + std::to_string(n) + "\n";
    out += "# HELP relais_whep_sessions_created_total WHEP sessions created.\n";
    out += "# TYPE relais_whep_sessions_created_total counter\n";
    out += "relais_whep_sessions_created_total " + std::to_string(sessions_created_) + "\n";
    out +=
        "# HELP relais_whep_sessions_ended_total WHEP sessions ended (deleted, failed or "
        "reaped).\n";
    out += "# TYPE relais_whep_sessions_ended_total counter\n";
    out += "relais_whep_sessions_ended_total " + std::to_string(sessions_ended_) + "\n";
    out += "# HELP relais_whep_sessions_failed_total WHEP sessions that failed or were reaped.\n";
    out += "# TYPE relais_whep_sessions_failed_total counter\n";
    out += "relais_whep_sessions_failed_total " + std::to_string(sessions_failed_) + "\n";
    out += "# HELP relais_whep_bytes_sent_total RTP bytes handed to WHEP viewers, per stream.\n";
    out += "# TYPE relais_whep_bytes_sent_total counter\n";
    for (const auto& [stream, n] : bytes)
      out += "relais_whep_bytes_sent_total{stream=\"" + stream + "\"} " + std::to_string(n) + "\n";
    out += "# HELP relais_whep_egress_pipelines Streams with a running egress pipeline.\n";
    out += "# TYPE relais_whep_egress_pipelines gauge\n";
    out += "relais_whep_egress_pipelines " + std::to_string(egresses_.size()) + "\n";
    return out;
  }

  const std::string store_uri_;
  const WhepOptions options_;
  GMainContext* const ctx_;
  RouteConfig routes_;
  std::shared_ptr<store::Store> store_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::unique_ptr<StreamEgress>> egresses_;
  std::map<std::string, uint64_t> bytes_ended_;
  uint64_t sessions_created_ = 0;
  uint64_t sessions_ended_ = 0;
  uint64_t sessions_failed_ = 0;
  GSourcePtr reaper_;
};

WhepService::WhepService(std::string store_uri, std::vector<IceServer> ice_servers,
                         std::string viewer_token, size_t max_body_bytes, WhepOptions options) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(relais_whep_debug, "relaiswhep", 0, "Relais WHEP service");
    g_once_init_leave(&once, 1);
  }
  impl_ = std::make_shared<Impl>(std::move(store_uri), std::move(ice_servers),
                                 std::move(viewer_token), max_body_bytes, std::move(options));
  impl_->start_reaper();
}

WhepService::~WhepService() = default;

void WhepService::add_routes(relais::server::RouteTable& table) {
  table.add_prefix(kWhepPrefix, [this](const HttpRequest& request, Responder respond) {
    handle(request, std::move(respond));
  });
  table.add_prefix("/watch/", [this](const HttpRequest& request, Responder respond) {
    handle_page(request, std::move(respond));
  });
}

void WhepService::handle(const HttpRequest& request, Responder respond) {
  impl_->handle(request, std::move(respond));
}

void WhepService::handle_page(const HttpRequest& request, Responder respond) {
  const std::string prefix = "/watch/";
  std::string stream =
      request.path.compare(0, prefix.size(), prefix) == 0 ? request.path.substr(prefix.size()) : "";
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = json_error(405, "the viewer page answers GET only");
    r.headers.emplace_back("Allow", "GET, HEAD");
    respond(std::move(r));
    return;
  }
  if (!store::is_valid_stream_name(stream)) {
    respond(json_error(404,
                       "no viewer page here: use /watch/{stream}, where a stream name is "
                       "1-64 characters of a-z, 0-9, _ and -"));
    return;
  }
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = kWatchPageHtml;
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
      "media-src 'self' blob:");
  respond(std::move(r));
}

std::string WhepService::prometheus_metrics() const {
  return impl_->metrics();
}
size_t WhepService::reap_expired() {
  return impl_->reap_expired();
}
size_t WhepService::session_count() const {
  return impl_->entries_.size();
}

size_t WhepService::connected_count() const {
  size_t n = 0;
  for (const auto& [id, e] : impl_->entries_)
    if (e.session->state() == ViewerSession::State::kConnected) n++;
  return n;
}

size_t WhepService::viewer_count(const std::string& stream) const {
  size_t n = 0;
  for (const auto& [id, e] : impl_->entries_)
    if (e.session->stream() == stream) n++;
  return n;
}

bool WhepService::has_egress(const std::string& stream) const {
  return impl_->egresses_.count(stream) > 0;
}

}  // namespace relais::webrtc
