#include "modules.h"

#include "server_log.h"

#if RELAIS_HAVE_WEBRTC
#include "whep_service.h"
#endif

namespace relais::server {

bool register_modules(ServerApp* app, const Config& config, ModuleHandles* modules,
                      std::string* error) {
#if RELAIS_HAVE_WEBRTC
  std::vector<webrtc::IceServer> ice;
  if (!config.ice_servers.empty() && !webrtc::parse_ice_servers(config.ice_servers, &ice, error)) {
    *error = "RELAIS_ICE_SERVERS: " + *error;
    return false;
  }
  auto whep = std::make_shared<webrtc::WhepService>(config.store_uri(), ice, config.viewer_token,
                                                    config.max_body_bytes);
  webrtc::WhepService* service = whep.get();
  app->routes()->add_prefix("/whep/", [service](const HttpRequest& request, Responder respond) {
    service->handle(request, std::move(respond));
  });
  app->routes()->add_prefix("/watch/", [service](const HttpRequest& request, Responder respond) {
    service->handle_page(request, std::move(respond));
  });
  app->api()->add_metrics_provider([service] { return service->prometheus_metrics(); });
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
