#include "modules.h"

#include "server_log.h"

#if RELAIS_HAVE_WEBRTC
#include "whep_service.h"
#endif

namespace relais::server {

#if RELAIS_HAVE_WEBRTC
namespace {

// RELAIS_ICE_* as the viewers' ICE agents take them; false with the reason.
bool ice_settings_from_config(const Config& config, webrtc::IceSettings* ice, std::string* error) {
  if (!config.ice_port_range.empty() &&
      !webrtc::parse_port_range(config.ice_port_range, &ice->min_port, &ice->max_port, error)) {
    *error = "RELAIS_ICE_PORT_RANGE: " + *error;
    return false;
  }
  ice->interfaces = webrtc::parse_list(config.ice_interfaces);
  std::vector<std::string> addresses;
  if (!webrtc::resolve_interfaces(ice->interfaces, &addresses, error)) {
    *error = "RELAIS_ICE_INTERFACES: " + *error;
    return false;
  }
  ice->public_ips = webrtc::parse_list(config.ice_public_ips);
  if (!webrtc::valid_ip_list(ice->public_ips, error)) {
    *error = "RELAIS_ICE_PUBLIC_IPS: " + *error;
    return false;
  }
  if (!webrtc::parse_switch(config.ice_tcp, &ice->tcp)) {
    *error = "RELAIS_ICE_TCP: '" + config.ice_tcp + "' is not on or off";
    return false;
  }
  return true;
}

}  // namespace
#endif

bool register_modules(ServerApp* app, const Config& config, ModuleHandles* modules,
                      std::string* error) {
#if RELAIS_HAVE_WEBRTC
  std::vector<webrtc::IceServer> ice;
  if (!config.ice_servers.empty() && !webrtc::parse_ice_servers(config.ice_servers, &ice, error)) {
    *error = "RELAIS_ICE_SERVERS: " + *error;
    return false;
  }
  webrtc::WhepOptions options;
  if (!ice_settings_from_config(config, &options.ice, error)) return false;
  options.max_viewers = static_cast<size_t>(config.max_viewers);
  // Past the budget, viewers go to the least-loaded node with room (cluster only).
  options.redirect_when_full = [app](const std::string&) { return app->viewer_redirect_base(); };
  auto whep = std::make_shared<webrtc::WhepService>(config.store_uri(), ice, config.viewer_token,
                                                    config.max_body_bytes, options);
  webrtc::WhepService* service = whep.get();
  app->routes()->add_prefix("/whep/", [service](const HttpRequest& request, Responder respond) {
    service->handle(request, std::move(respond));
  });
  app->routes()->add_prefix("/watch/", [service](const HttpRequest& request, Responder respond) {
    service->handle_page(request, std::move(respond));
  });
  app->api()->add_metrics_provider([service] { return service->prometheus_metrics(); });
  // Sessions, as the budget counts them: a viewer still connecting holds a place.
  app->set_viewer_count([service] { return static_cast<int64_t>(service->session_count()); });
  modules->push_back(whep);
  log_info("WHEP viewers on /whep/{stream}, viewer page on /watch/{stream} (%s)",
           config.viewer_token.empty() ? "open" : "viewer token required");
#else
  (void)app;
  (void)config;
  (void)modules;
  (void)error;
#endif
  return true;
}

}  // namespace relais::server
