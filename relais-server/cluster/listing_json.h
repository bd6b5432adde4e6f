// The JSON of one line of the cluster's pipeline listing (GET
// /api/v1/pipelines in a cluster): the definition, owner node, epoch, state,
// uptime, restarts and last error, with credentials in URIs masked.
#pragma once

#include <json-glib/json-glib.h>

#include <string>

#include "cluster/pipeline_catalog.h"

namespace relais::cluster {

void add_cluster_pipeline(JsonBuilder* b, const ClusterPipeline& p);
std::string cluster_pipeline_json(const ClusterPipeline& p);

}  // namespace relais::cluster
