// The cluster's pipeline catalog without Redis: definitions as stored in the
// hash, published statuses, and the listing every node serves.
#include "cluster/pipeline_catalog.h"

#include "cluster/listing_json.h"

#include <gtest/gtest.h>

using namespace relais::cluster;
using relais::server::PipelineDefinition;
using relais::server::RestartPolicy;

TEST(PipelineCatalog, DefinitionsRoundTripAndBadEntriesAreReported) {
  PipelineDefinition def{"cam1", "videotestsrc ! fakesink name=\"a b\"", RestartPolicy::kNever};
  Catalog c = decode_catalog({{"cam1", relais::server::definition_to_json(def)},
                              {"cam2", "{not json"},
                              {"cam3", relais::server::definition_to_json(def)}});
  ASSERT_EQ(c.definitions.size(), 1u);
  EXPECT_EQ(c.definitions["cam1"], def);
  ASSERT_EQ(c.errors.size(), 2u);
  EXPECT_NE(c.errors[0].find("cam2"), std::string::npos) << c.errors[0];
  EXPECT_NE(c.errors[1].find("named 'cam1'"), std::string::npos) << c.errors[1];
}

TEST(PipelineCatalog, StatusRoundTrip) {
  PublishedStatus s{"node a", 7, "playing", 12, 3, "was \"bad\""};
  auto back = decode_status(encode_status(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->node, "node a");
  EXPECT_EQ(back->epoch, 7);
  EXPECT_EQ(back->state, "playing");
  EXPECT_EQ(back->uptime_seconds, 12);
  EXPECT_EQ(back->restarts, 3);
  EXPECT_EQ(back->last_error, "was \"bad\"");
  EXPECT_FALSE(decode_status("{}"));
  EXPECT_FALSE(decode_status("[1]"));
}

TEST(PipelineCatalog, ListingShowsOwnersAndOnlyTheCurrentOwnersStatus) {
  Catalog c;
  for (const char* n : {"a", "b", "c"})
    c.definitions[n] = PipelineDefinition{n, "fakesrc ! fakesink"};
  std::map<std::string, LeaseOwner> owners = {{"a", {"node-1", 4}}, {"b", {"node-2", 2}}};
  std::map<std::string, PublishedStatus> statuses = {
      {"a", {"node-1", 4, "playing", 30, 1, ""}},
      {"b", {"node-3", 1, "playing", 99, 0, ""}},  // the dead previous owner's
      {"c", {"node-3", 5, "playing", 99, 0, ""}},  // unowned now
  };
  auto l = cluster_listing(c, owners, statuses);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].node, "node-1");
  EXPECT_EQ(l[0].epoch, 4);
  EXPECT_EQ(l[0].state, "playing");
  EXPECT_EQ(l[0].uptime_seconds, 30);
  EXPECT_EQ(l[1].node, "node-2");
  EXPECT_EQ(l[1].state, "starting");
  EXPECT_EQ(l[1].uptime_seconds, 0);
  EXPECT_EQ(l[2].node, "");
  EXPECT_EQ(l[2].state, "unowned");
}

TEST(PipelineCatalog, ListingJsonNamesTheOwnerAndMasksCredentials) {
  ClusterPipeline p;
  p.definition = PipelineDefinition{"cam", "relaissrc uri=rtsp://admin:hunter2@cam/1 ! fakesink"};
  p.node = "node-a";
  p.epoch = 3;
  p.state = "restarting";
  p.last_error = "could not open rtsp://admin:hunter2@cam/1?token=abc";
  std::string json = cluster_pipeline_json(p);
  EXPECT_EQ(json.find("hunter2"), std::string::npos) << json;
  EXPECT_EQ(json.find("abc"), std::string::npos) << json;
  EXPECT_NE(json.find("rtsp://admin:***@cam/1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"node\":\"node-a\",\"epoch\":3"), std::string::npos) << json;
  p.node.clear();
  p.last_error.clear();
  json = cluster_pipeline_json(p);
  EXPECT_NE(json.find("\"node\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"last_error\":null"), std::string::npos) << json;
}
