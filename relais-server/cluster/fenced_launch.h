// A leased pipeline's launch description with its lease epoch given to every
// relaisstoresink (fence-epoch=N), so its store writes are fenced: Redis
// refuses them once a newer owner has written the stream. Pure text logic.
#pragma once

#include <cstdint>
#include <string>

namespace relais::cluster {

// Inserts " fence-epoch=EPOCH" after each relaisstoresink element name (a
// whole word outside quotes, not a property value).
std::string fenced_launch(const std::string& launch, int64_t epoch);

}  // namespace relais::cluster
