// Files of a node home written whole or not at all: a crash or a full disk never leaves a
// half-written config, genesis or key behind.
#pragma once

#include <sys/types.h>
#include <string>
#include <string_view>

#include "state/result.h"

namespace node {

// Writes text to a temporary file beside path with the given mode, fsyncs it, renames it over
// path (replacing it only when replace is true) and fsyncs the folder. Errors name path.
state::Status write_file_atomically(const std::string& path, std::string_view text, mode_t mode,
                                    bool replace = true);

}  // namespace node
