// One metric in Prometheus' text exposition format, for the GET /metrics text that the RPC
// server and the node each add to.
#pragma once

#include <string>
#include <string_view>

namespace rpc {

// Appends the metric's HELP and TYPE lines and its one unlabelled sample.
inline void append_metric(std::string& out, std::string_view name, std::string_view type,
                          std::string_view help, std::string_view value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(value).append("\n");
}

}  // namespace rpc
