#include "api.h"

#include <cmath>
#include <memory>
#include <optional>

#include "auth.h"
#include "glib_handles.h"
#include "json_handles.h"
#include "redact.h"
#include "registry.h"
#include "server_log.h"

namespace relais::server {

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, error_json(message));
}

HttpResponse method_not_allowed(const std::string& allow) {
  HttpResponse r = error_response(405, "method not allowed here; allowed: " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

namespace {

HttpResponse streams_json(const std::string& uri);

constexpr const char kPipelinesPath[] = "/api/v1/pipelines";
constexpr const char kStreamsPath[] = "/api/v1/streams";

bool is_get(const HttpRequest& r) {
  return r.method == "GET" || r.method == "HEAD";
}

void add_pipeline(JsonBuilder* b, const PipelineStatus& p) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, p.definition.name.c_str());
  json_builder_set_member_name(b, "launch");
  // What people read may quote URIs with passwords or tokens in them.
  GCharPtr launch(g_utf8_make_valid(redact_credentials(p.definition.launch).c_str(), -1));
  json_builder_add_string_value(b, launch.get());
  json_builder_set_member_name(b, "restart");
  json_builder_add_string_value(b, restart_policy_name(p.definition.restart));
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, pipeline_state_name(p.state));
  // Whole units: json-glib prints doubles with 17 digits (4.6798679999999999).
  json_builder_set_member_name(b, "uptime_seconds");
  json_builder_add_int_value(b, static_cast<gint64>(p.uptime_seconds));
  json_builder_set_member_name(b, "restarts");
  json_builder_add_int_value(b, p.restarts);
  json_builder_set_member_name(b, "last_error");
  if (p.last_error.empty()) {
    json_builder_add_null_value(b);
  } else {
    GCharPtr err(g_utf8_make_valid(redact_credentials(p.last_error).c_str(), -1));
    json_builder_add_string_value(b, err.get());
  }
  json_builder_set_member_name(b, "hangs");
  json_builder_add_int_value(b, p.hangs);
  if (p.state == PipelineState::kRestarting) {
    json_builder_set_member_name(b, "next_restart_in_ms");
    json_builder_add_int_value(b, static_cast<gint64>(p.next_restart_in * 1000));
  }
  json_builder_end_object(b);
}

std::string pipeline_json(const PipelineStatus& p) {
  JsonBuilderPtr b(json_builder_new());
  add_pipeline(b.get(), p);
  return to_json(b.get());
}

std::string iso8601_ms(int64_t unix_ms) {
  if (unix_ms <= 0) return {};
  GDateTime* dt = g_date_time_new_from_unix_utc(unix_ms / 1000);
  if (!dt) return {};
  GCharPtr text(g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S"));
  g_date_time_unref(dt);
  char ms[8];
  g_snprintf(ms, sizeof(ms), ".%03dZ", static_cast<int>(unix_ms % 1000));
  return std::string(text.get()) + ms;
}

std::string html_escape(const std::string& s) {
  GCharPtr e(g_markup_escape_text(s.c_str(), static_cast<gssize>(s.size())));
  return e.get();
}

}  // namespace

Api::Api(PipelineManager* manager, std::string store_uri, std::string api_token,
         GMainContext* context)
    : manager_(manager),
      context_(context),
      store_uri_(std::move(store_uri)),
      api_token_(std::move(api_token)),
      workers_(context) {}

void Api::add_metrics_provider(MetricsProvider provider) {
  metrics_providers_.push_back(std::move(provider));
}

void Api::register_routes(RouteTable* routes) {
  auto handler = [this](const HttpRequest& request, Responder respond) {
    Reply reply = plan(request);
    if (reply.deferred) {
      reply.deferred(std::move(respond));
      return;
    }
    if (!reply.work) {
      respond(std::move(reply.response));
      return;
    }
    // Store round trips (Redis) never block the main context.
    workers_.run(std::move(reply.work), std::move(respond));
  };
  for (const char* prefix : {"/", "/healthz", "/readyz", "/metrics", "/api/v1/"}) {
    routes->add_prefix(prefix, handler);
  }
}

Api::Reply Api::plan(const HttpRequest& r) {
  const std::string& path = r.path;
  if (path == "/healthz") return Reply::now(healthz(r));
  if (path == "/readyz") return readyz(r);
  if (path == "/metrics") return metrics(r);
  if (path == kPipelinesPath) return Reply::now(pipelines(r));
  if (path == kStreamsPath) return streams(r);
  if (path == "/api/v1/nodes") return Reply::now(nodes(r));
  if (path == "/") return index(r);
  std::string prefix = std::string(kPipelinesPath) + "/";
  if (path.compare(0, prefix.size(), prefix) == 0) {
    return pipeline(r, path.substr(prefix.size()));
  }
  return Reply::now(
      error_response(404, "no such route; see /api/v1/pipelines, /api/v1/streams, /metrics"));
}

HttpResponse Api::handle(const HttpRequest& r) {
  Reply reply = plan(r);
  if (reply.deferred) {
    auto answer = std::make_shared<std::optional<HttpResponse>>();
    reply.deferred([answer](HttpResponse resp) { *answer = std::move(resp); });
    while (!*answer) g_main_context_iteration(context_, TRUE);
    return std::move(**answer);
  }
  return reply.work ? reply.work() : std::move(reply.response);
}

HttpResponse Api::healthz(const HttpRequest& r) {
  if (!is_get(r)) return method_not_allowed("GET, HEAD");
  return json_response(200, "{\"status\":\"ok\"}");
}

Api::Reply Api::readyz(const HttpRequest& r) {
  if (!is_get(r)) return Reply::now(method_not_allowed("GET, HEAD"));
  return Reply::later([uri = store_uri_] {
    std::shared_ptr<store::Store> s;
    store::Status st = store::open_store(uri, &s);
    if (st.is_ok()) st = s->ping();
    if (!st.is_ok()) {
      return error_response(503, "the frame store " + uri + " is not reachable: " + st.message());
    }
    JsonBuilderPtr b(json_builder_new());
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "status");
    json_builder_add_string_value(b.get(), "ready");
    json_builder_set_member_name(b.get(), "store");
    json_builder_add_string_value(b.get(), uri.c_str());
    json_builder_end_object(b.get());
    return json_response(200, to_json(b.get()));
  });
}

Api::Reply Api::metrics(const HttpRequest& r) {
  if (!is_get(r)) return Reply::now(method_not_allowed("GET, HEAD"));
  // Pipelines and other modules are read here, on the main context; only
  // the store probe runs elsewhere.
  std::string others;
  for (const auto& provider : metrics_providers_) others += provider();
  return Reply::later([uri = store_uri_, pipelines = manager_->list(),
                       elements = manager_->store_stats(), others = std::move(others)] {
    std::shared_ptr<store::Store> s;
    store::Status st = store::open_store(uri, &s);
    if (st.is_ok()) st = s->ping();
    HttpResponse resp;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = render_metrics(pipelines, elements, st.is_ok()) + others;
    return resp;
  });
}

HttpResponse Api::nodes(const HttpRequest& r) {
  if (!is_get(r)) return method_not_allowed("GET, HEAD");
  if (!nodes_provider_) {
    return error_response(404, "no cluster: nodes form one with RELAIS_STORAGE_TYPE=redis");
  }
  JsonBuilderPtr b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "nodes");
  json_builder_begin_array(b.get());
  for (const auto& n : nodes_provider_()) {
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "id");
    json_builder_add_string_value(b.get(), n.id.c_str());
    json_builder_set_member_name(b.get(), "public_url");
    json_builder_add_string_value(b.get(), n.public_url.c_str());
    json_builder_set_member_name(b.get(), "version");
    json_builder_add_string_value(b.get(), n.version.c_str());
    json_builder_set_member_name(b.get(), "started_at");
    json_builder_add_string_value(b.get(), iso8601_ms(n.started_unix_ms).c_str());
    json_builder_set_member_name(b.get(), "viewers");
    json_builder_add_int_value(b.get(), n.viewers);
    json_builder_set_member_name(b.get(), "pipelines_running");
    json_builder_add_int_value(b.get(), n.pipelines_running);
    json_builder_set_member_name(b.get(), "cpu_percent");
    json_builder_add_int_value(b.get(), static_cast<gint64>(std::lround(n.cpu_percent)));
    json_builder_end_object(b.get());
  }
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());
  return json_response(200, to_json(b.get()));
}

HttpResponse Api::pipelines(const HttpRequest& r) {
  if (is_get(r)) {
    JsonBuilderPtr b(json_builder_new());
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "pipelines");
    json_builder_begin_array(b.get());
    for (const auto& p : manager_->list()) add_pipeline(b.get(), p);
    json_builder_end_array(b.get());
    json_builder_end_object(b.get());
    return json_response(200, to_json(b.get()));
  }
  if (r.method != "POST") return method_not_allowed("GET, HEAD, POST");
  if (auto refused = check_admin(r, api_token_)) return *refused;
  PipelineDefinition def;
  std::string error;
  if (!parse_definition(r.body, &def, &error)) return error_response(400, error);
  switch (manager_->add(def, false, &error)) {
    case AddResult::kDuplicate:
      return error_response(409, error);
    case AddResult::kInvalid:
      return error_response(400, error);
    case AddResult::kShuttingDown: {
      HttpResponse resp = error_response(503, error);
      resp.headers.emplace_back("Retry-After", "5");
      return resp;
    }
    case AddResult::kAdded:
      break;
  }
  log_info("pipeline %s added through the API by %s", def.name.c_str(), r.remote_address.c_str());
  HttpResponse resp = json_response(201, pipeline_json(*manager_->get(def.name)));
  resp.headers.emplace_back("Location", std::string(kPipelinesPath) + "/" + def.name);
  return resp;
}

Api::Reply Api::pipeline(const HttpRequest& r, const std::string& name) {
  if (!is_get(r) && r.method != "DELETE") {
    return Reply::now(method_not_allowed("GET, HEAD, DELETE"));
  }
  if (!is_valid_name(name)) {
    return Reply::now(
        error_response(400, "pipeline names are 1-64 characters of a-z, 0-9, _ and -"));
  }
  if (is_get(r)) {
    auto status = manager_->get(name);
    if (!status) return Reply::now(error_response(404, "no pipeline named '" + name + "'"));
    return Reply::now(json_response(200, pipeline_json(*status)));
  }
  if (auto refused = check_admin(r, api_token_)) return Reply::now(*refused);
  if (!manager_->get(name)) {
    return Reply::now(error_response(404, "no pipeline named '" + name + "'"));
  }
  // 204 once the pipeline has drained and is gone: a recording's last
  // segment is complete when the answer arrives.
  return Reply::on([this, name](Responder respond) {
    manager_->remove(name, [respond = std::move(respond)] {
      HttpResponse resp;
      resp.status = 204;
      resp.content_type.clear();
      respond(std::move(resp));
    });
  });
}

Api::Reply Api::streams(const HttpRequest& r) {
  if (!is_get(r)) return Reply::now(method_not_allowed("GET, HEAD"));
  return Reply::later([uri = store_uri_] { return streams_json(uri); });
}

namespace {

HttpResponse streams_json(const std::string& uri) {
  std::shared_ptr<store::Store> s;
  store::Status st = store::open_store(uri, &s);
  std::vector<store::StreamInfo> list;
  if (st.is_ok()) st = s->list_streams(&list);
  if (!st.is_ok()) {
    return error_response(503, "cannot list streams in " + uri + ": " + st.message());
  }
  JsonBuilderPtr b(json_builder_new());
  JsonBuilder* j = b.get();
  json_builder_begin_object(j);
  json_builder_set_member_name(j, "streams");
  json_builder_begin_array(j);
  for (const auto& info : list) {
    json_builder_begin_object(j);
    json_builder_set_member_name(j, "name");
    json_builder_add_string_value(j, info.name.c_str());
    json_builder_set_member_name(j, "caps");
    GCharPtr caps(g_utf8_make_valid(info.caps.c_str(), -1));
    json_builder_add_string_value(j, caps.get());
    json_builder_set_member_name(j, "frame_rate");
    json_builder_add_double_value(j, std::round(info.frame_rate * 100) / 100);
    json_builder_set_member_name(j, "bitrate");
    json_builder_add_int_value(j, static_cast<gint64>(info.bitrate));
    json_builder_set_member_name(j, "updated_unix_ms");
    json_builder_add_int_value(j, info.updated_unix_ms);
    json_builder_set_member_name(j, "updated");
    json_builder_add_string_value(j, iso8601_ms(info.updated_unix_ms).c_str());
    json_builder_set_member_name(j, "frames_retained");
    json_builder_add_int_value(j, static_cast<gint64>(info.frames_retained));
    json_builder_end_object(j);
  }
  json_builder_end_array(j);
  json_builder_end_object(j);
  return json_response(200, to_json(j));
}

// "live, 30.0 frames/s" while frames arrive, else how long it has been idle.
std::string stream_state(const store::StreamInfo& info, int64_t now_ms) {
  const int64_t idle_s = (now_ms - info.updated_unix_ms) / 1000;
  if (idle_s >= 5) return "idle (no frame for " + std::to_string(idle_s) + " s)";
  char rate[32];
  g_snprintf(rate, sizeof rate, "%.1f", info.frame_rate);
  return std::string("live, ") + rate + " frames/s";
}

}  // namespace

Api::Reply Api::index(const HttpRequest& r) {
  if (!is_get(r)) return Reply::now(method_not_allowed("GET, HEAD"));
  std::string pipelines;
  for (const auto& p : manager_->list()) {
    std::string n = html_escape(p.definition.name);
    pipelines += "<li><a href=\"/api/v1/pipelines/" + n + "\">" + n +
                 "</a>: " + pipeline_state_name(p.state) +
                 (p.last_error.empty() ? "" : " (" + html_escape(p.last_error) + ")") + "</li>";
  }
  return Reply::later([uri = store_uri_, pipelines = std::move(pipelines)] {
    std::string html =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Relais</title></head>"
        "<body><h1>Relais</h1><h2>Streams</h2><ul>";
    std::shared_ptr<store::Store> s;
    std::vector<store::StreamInfo> list;
    store::Status st = store::open_store(uri, &s);
    if (st.is_ok()) st = s->list_streams(&list);
    const int64_t now_ms = g_get_real_time() / 1000;
    if (!st.is_ok()) html += "<li>store unavailable: " + html_escape(st.message()) + "</li>";
    for (const auto& info : list) {
      std::string n = html_escape(info.name);
      html += "<li><a href=\"/watch/" + n + "\">" + n + "</a> " + stream_state(info, now_ms) +
              ", <span title=\"" + html_escape(info.caps) + "\">" +
              html_escape(info.caps.substr(0, info.caps.find(','))) + "</span></li>";
    }
    html += "</ul><h2>Pipelines</h2><ul>" + pipelines +
            "</ul><p><a href=\"/api/v1/pipelines\">/api/v1/pipelines</a> "
            "<a href=\"/api/v1/streams\">/api/v1/streams</a> <a href=\"/metrics\">/metrics</a></p>"
            "</body></html>\n";
    HttpResponse resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = std::move(html);
    return resp;
  });
}

}  // namespace relais::server
