// Registers the backends compiled into this build (see backends.cpp).
#pragma once

namespace relais::store {
void register_builtin_backends();
}
